package main

import (
	"strings"
	"testing"

	"github.com/flowcase/flowcase/ingest"
)

// The run's summary lists what waits for templates, unless the one file
// ingested said all of it in its own notes; beyond ten templates it points
// to flowcase info.
func TestReportWaiting(t *testing.T) {
	w := func(id uint16, sets int) ingest.Waiting {
		return ingest.Waiting{Exporter: "192.0.2.1", Port: 2055, ObservationDomain: 3, TemplateID: id, Sets: sets, Bytes: 100 * sets}
	}
	one := []ingest.FileResult{{Path: "a.pcap", Parked: 3}}
	two := []ingest.FileResult{{Path: "a.pcap", Parked: 3}, {Path: "b.pcap"}}
	var many []ingest.Waiting
	for i := range 12 {
		many = append(many, w(uint16(256+i), 1))
	}
	cases := []struct {
		name  string
		sum   ingest.Summary
		lines []string
	}{
		{"nothing waits", ingest.Summary{Files: two}, nil},
		{"the file's own", ingest.Summary{Files: one, Waiting: []ingest.Waiting{w(256, 3)}}, nil},
		{"an earlier run's too", ingest.Summary{Files: one, Waiting: []ingest.Waiting{w(256, 3), w(257, 2)}}, []string{
			"5 data sets wait in the store for templates no file has brought yet; they decode when evidence with them is ingested:",
			"  3 data sets (300 bytes) from 192.0.2.1 domain 3 wait for template 256",
			"  2 data sets (200 bytes) from 192.0.2.1 domain 3 wait for template 257",
		}},
		{"several files", ingest.Summary{Files: two, Waiting: []ingest.Waiting{w(256, 3)}}, []string{
			"3 data sets wait in the store for templates no file has brought yet; they decode when evidence with them is ingested:",
			"  3 data sets (300 bytes) from 192.0.2.1 domain 3 wait for template 256",
		}},
	}
	for _, c := range cases {
		var b strings.Builder
		reportWaiting(&b, &c.sum)
		var got []string
		if b.Len() > 0 {
			got = strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		}
		if strings.Join(got, "\n") != strings.Join(c.lines, "\n") {
			t.Errorf("%s: got\n%s\nwant\n%s", c.name, strings.Join(got, "\n"), strings.Join(c.lines, "\n"))
		}
	}
	var b strings.Builder
	reportWaiting(&b, &ingest.Summary{Files: two, Waiting: many})
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 12 || lines[11] != "  and 2 more templates (flowcase info lists them all)" {
		t.Errorf("twelve templates: got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
}
