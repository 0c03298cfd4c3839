package ingest

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/flowcase/flowcase/ingest/netflow"
	"github.com/flowcase/flowcase/internal/nfgen"
)

// A data set that waited for its template is accounted like any other when
// it is decoded: its damaged record is counted by reason, its good one
// stored.
func TestParkedSetRejectsCounted(t *testing.T) {
	be := binary.BigEndian
	msg := func(seq uint32, set []byte) []byte {
		b := be.AppendUint16(nil, 10)
		b = be.AppendUint16(b, uint16(16+len(set)))
		b = be.AppendUint32(b, uint32(capBase/1e9))
		b = be.AppendUint32(b, seq)
		b = be.AppendUint32(b, 1)
		return append(b, set...)
	}
	set := func(id uint16, body []byte) []byte {
		b := be.AppendUint16(nil, id)
		b = be.AppendUint16(b, uint16(4+len(body)))
		return append(b, body...)
	}
	// Template 300: sourceIPv4Address, destinationIPv4Address, interfaceName (variable).
	tpl := set(2, []byte{1, 44, 0, 3, 0, 8, 0, 4, 0, 12, 0, 4, 0, 82, 0xff, 0xff})
	// A record, then one whose name claims 50 bytes and has 3.
	data := set(300, []byte{10, 0, 0, 1, 10, 0, 0, 2, 2, 'e', '0', 10, 0, 0, 3, 10, 0, 0, 4, 50, 'x', 'y', 'z'})
	src, dst := netip.MustParseAddrPort("192.0.2.1:4739"), netip.MustParseAddrPort("192.0.2.9:4739")
	dgs := nfgen.Datagrams(src, dst, capBase, msg(0, data), msg(1, tpl))
	path := filepath.Join(t.TempDir(), "late-template.pcap")
	if err := nfgen.WriteFile(path, dgs); err != nil {
		t.Fatal(err)
	}
	st := capStore(t)
	res := capIngest(t, st, path).Files[0]
	reason := netflow.ErrRecordTruncated.Error()
	if res.Flows != 1 || res.Rejected[reason] != 1 || len(capRows(t, st)) != 1 {
		t.Errorf("got %d flows, rejected %v; want 1 and 1 %q", res.Flows, res.Rejected, reason)
	}
}
