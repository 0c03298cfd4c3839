package ingest

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/internal/nfgen"
)

// A capture without export packets says so, and what to do when it holds
// the traffic itself.
func TestCaptureWithoutExports(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dns.pcap")
	var dgs []nfgen.Datagram
	for i := range 3 {
		dgs = append(dgs, nfgen.Datagram{Src: netip.MustParseAddrPort("10.0.0.5:53000"), Dst: netip.MustParseAddrPort("10.0.0.1:53"),
			Time: int64(i+1) * 1e9, Payload: []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01")})
	}
	if err := nfgen.WriteFile(path, dgs); err != nil {
		t.Fatal(err)
	}
	res := capIngest(t, capStore(t), path).Files[0]
	want := "no NetFlow/IPFIX exports found: 3 packets of other traffic (a capture of the traffic itself, not of flow exports?"
	if res.Flows != 0 || len(res.Notes) != 1 || !strings.HasPrefix(res.Notes[0], want) {
		t.Errorf("got %d flows, notes %q; want 0 and %q...", res.Flows, res.Notes, want)
	}
}
