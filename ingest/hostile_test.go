package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/index"
)

// TestHostileCaptures ingests the shared hostile captures (real captures
// with one lie each, see ../shared/captures/TRUTH.md): the valid flows are
// kept, the damage is counted by reason, errors name the file, packet and
// offset, and nothing panics. Skipped when the folder is absent.
func TestHostileCaptures(t *testing.T) {
	dir := "../../shared/captures/hostile"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no shared captures at %s", dir)
	}
	cases := []struct {
		file    string
		flows   int64
		reason  string
		rejects int64
		errText string // in the file error, when the file cannot be followed to its end
		example string // in the first reject example
	}{
		{"h1_truncated_midpacket__pmacct101_nfv9.pcap", 23, "capture: truncated packet", 1, "", ""},
		{"h2_v9_flowset_length_overrun__pmacct101.pcap", 50, "netflow: bad set length", 1, "", "packet 2 offset 20"},
		{"h3_v9_flowset_length_short__pmacct101.pcap", 49, "netflow: bad set length", 2, "", "packet 2 offset 20"},
		{"h4_pcap_huge_caplen__pmacct101_nfv9.pcap", 23, "capture: caplen over 256 KiB", 1, "packet 21 at offset 4816", ""},
		{"h5_ipfix_set_length_zero__pmacct100.pcap", 8, "netflow: bad set length", 1, "", "packet 3 offset 16"},
		{"h6_v5_count_lies__akvorado_nfv5.pcap", 29, "netflow: truncated", 1, "", ""},
		{"h7_snaplen96__pmacct100_ipfix.pcap", 0, "capture: cut by snaplen", 6, "", ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			st, err := index.Open(t.TempDir(), index.Options{Create: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			path := filepath.Join(dir, c.file)
			sum, err := Run(st, []string{path}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			f := sum.Files[0]
			if f.Flows != c.flows || f.Rejected[c.reason] != c.rejects {
				t.Errorf("got %d flows, %v rejected; want %d flows, %d %q", f.Flows, f.Rejected, c.flows, c.rejects, c.reason)
			}
			switch {
			case c.errText == "" && f.Err != nil:
				t.Errorf("unexpected error: %v", f.Err)
			case c.errText != "" && (f.Err == nil || !strings.Contains(f.Err.Error(), c.errText) || !strings.Contains(f.Err.Error(), c.file)):
				t.Errorf("error %v: want it to name the file and %q", f.Err, c.errText)
			}
			if c.example != "" && (len(f.Examples) == 0 || !strings.Contains(f.Examples[0], c.example)) {
				t.Errorf("examples %q: want the first to hold %q", f.Examples, c.example)
			}
			// What was kept is in the store.
			stats, err := st.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if stats.Flows != c.flows {
				t.Errorf("store holds %d flows, want %d", stats.Flows, c.flows)
			}
		})
	}
}

// A real router's options template whose System scope field is 0 bytes
// long (akvorado's capture; tshark decodes it: random sampling, interval
// 100): the template is kept, so all 21 flows (11 of them in a data set
// that comes before its template) are 1-in-100 samples. It was refused for
// its empty field, and every flow read as unsampled.
func TestZeroLengthScopeSampling(t *testing.T) {
	path := "../../shared/captures/public/netflow/akvorado__data+templates.pcap"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no shared captures at %s", path)
	}
	st := capStore(t)
	res := capIngest(t, st, path).Files[0]
	if res.Flows != 21 || len(res.Rejected) != 0 || len(res.Notes) != 0 {
		t.Fatalf("got %d flows, rejected %v, notes %q; want 21, none, none", res.Flows, res.Rejected, res.Notes)
	}
	sampled := 0
	for _, r := range capRows(t, st) {
		if r.SamplingInterval == 100 {
			sampled++
		}
	}
	if sampled != 21 {
		t.Errorf("got %d of 21 flows sampled 1 in 100, want all (the exporter's options data)", sampled)
	}
}
