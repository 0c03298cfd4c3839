package detectors

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
)

// The bundled sample (testdata/sample, made by `flowcase generate
// --planted --truth`) with the default settings: every planted event is
// found, no decoy is flagged, and each detector has findings.
func TestSample(t *testing.T) {
	d := readSample(t, filepath.Join("..", "testdata", "sample"))
	s := d.suite(d.from, d.to)
	checkScans(t, s.Scan.Findings(), d.truth)
	checkSweeps(t, s.Sweep.Findings(), d.truth)
	checkExfil(t, s.Exfil.Findings(), d.truth)
	checkBeacons(t, s.Beacon.Findings(), d.truth)
	for _, c := range []struct {
		name string
		n    int
	}{{"scans", len(s.Scan.Findings())}, {"sweeps", len(s.Sweep.Findings())}, {"exfiltration", len(s.Exfil.Findings())},
		{"beacons", len(s.Beacon.Findings())}} {
		t.Logf("sample: %d %s findings", c.n, c.name)
		if c.n == 0 {
			t.Errorf("sample: no %s finding", c.name)
		}
	}
}

// readSample reads flows.ndjson.gz and truth.json of dir.
func readSample(t *testing.T, dir string) *dataset {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := gen.ReadTruth(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	d := &dataset{truth: tr, from: tr.Config.Start.UnixNano(), to: tr.Config.Start.Add(tr.Config.Span).UnixNano()}
	f, err = os.Open(filepath.Join(dir, "flows.ndjson.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		var j struct {
			Src        netip.Addr `json:"src_ip"`
			Dst        netip.Addr `json:"dst_ip"`
			SrcPort    uint16     `json:"src_port"`
			DstPort    uint16     `json:"dst_port"`
			Proto      uint8      `json:"protocol"`
			BytesIn    uint64     `json:"bytes_in"`
			BytesOut   uint64     `json:"bytes_out"`
			Packets    uint64     `json:"packets"`
			PacketsOut uint64     `json:"packets_out"`
			Flags      uint8      `json:"tcp_flags"`
			ICMPType   uint8      `json:"icmp_type"`
			ICMPCode   uint8      `json:"icmp_code"`
			Sampling   uint32     `json:"sampling_interval"`
			Start      time.Time  `json:"start"`
			End        time.Time  `json:"end"`
		}
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			t.Fatalf("%s: line %d: %v", dir, len(d.recs)+1, err)
		}
		d.recs = append(d.recs, flow.Record{Start: j.Start.UnixNano(), End: j.End.UnixNano(), SrcAddr: j.Src, DstAddr: j.Dst,
			SrcPort: j.SrcPort, DstPort: j.DstPort, Proto: j.Proto, TCPFlags: j.Flags, Bytes: j.BytesIn, RevBytes: j.BytesOut,
			Packets: j.Packets, RevPackets: j.PacketsOut, ICMPType: j.ICMPType, ICMPCode: j.ICMPCode, SamplingInterval: max(j.Sampling, 1)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(d.recs) != tr.Flows {
		t.Fatalf("%s: %d flows, the truth says %d", dir, len(d.recs), tr.Flows)
	}
	d.label()
	return d
}
