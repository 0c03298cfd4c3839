package ingest

import (
	"net/netip"
	"path/filepath"
	"testing"
)

// TestIPFIXFileIngest: an IPFIX File (RFC 5655) of softflowd's messages
// gives the capture's 119 flows, with no exporter address (a file does not
// say who sent it: 0.0.0.0), and the same bytes again are skipped.
func TestIPFIXFileIngest(t *testing.T) {
	caps := capStore(t)
	capIngest(t, caps, filepath.Join(softflowdDir, "softflowd_ipfix.pcap"))
	want := capRows(t, caps)
	st := capStore(t)
	path := filepath.Join(softflowdDir, "softflowd_ipfix.ipfix")
	res := capIngest(t, st, path).Files[0]
	if res.Format != InputIPFIX || res.Flows != 119 || len(res.Rejected) != 0 {
		t.Fatalf("format %q, %d flows, rejects %v; want ipfix, 119, none", res.Format, res.Flows, res.Rejected)
	}
	got := capRows(t, st)
	unknown := netip.IPv4Unspecified()
	for i := range want {
		want[i].Exporter = unknown
	}
	compareKeys(t, collectorKeys(got, false), collectorKeys(want, false))
	if again := capIngest(t, st, path).Files[0]; !again.Duplicate {
		t.Errorf("the same file again: %+v", again)
	}
}
