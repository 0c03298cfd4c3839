package ingest

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/internal/nfgen"
)

// Hand-built NetFlow v9 export packets, in captures.

// v9Template appends a template record: id and (element, length) pairs.
func v9Template(b []byte, id uint16, fields ...uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, uint16(len(fields)/2))
	for _, f := range fields {
		b = binary.BigEndian.AppendUint16(b, f)
	}
	return b
}

// v9Set is a FlowSet of id (0: templates) with its header.
func v9Set(id uint16, body []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

// writeV9Packet writes a capture of one v9 export packet of count
// records and the sets, exported a minute after capBase from 192.0.2.1,
// and returns its path.
func writeV9Packet(t *testing.T, name string, count uint16, sets ...[]byte) string {
	t.Helper()
	be := binary.BigEndian
	payload := be.AppendUint16(nil, 9)
	payload = be.AppendUint16(payload, count)
	payload = be.AppendUint32(payload, 3_600_000)
	payload = be.AppendUint32(payload, uint32(capBase/1e9)+60)
	payload = be.AppendUint32(payload, 1)
	payload = be.AppendUint32(payload, 0)
	for _, set := range sets {
		payload = append(payload, set...)
	}
	path := filepath.Join(t.TempDir(), name)
	dg := nfgen.Datagram{Src: netip.MustParseAddrPort("192.0.2.1:4444"), Dst: netip.MustParseAddrPort("192.0.2.9:2055"),
		Time: capBase + 60e9, Payload: payload}
	if err := nfgen.WriteFile(path, []nfgen.Datagram{dg}); err != nil {
		t.Fatal(err)
	}
	return path
}

// A firewall's NSEL export (Cisco ASA, NetFlow v9): every event is kept as
// a record, the capture's note counts them, and a torn-down connection
// lasts from its creation to its teardown.
func TestCaptureNSELEvents(t *testing.T) {
	be := binary.BigEndian
	t0 := uint64(capBase / 1e6)
	// Template 263: source, destination, ports, protocol, firewall event,
	// creation time, event time, initiator and responder bytes.
	tpl := v9Template(nil, 263, 8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 233, 1, 152, 8, 323, 8, 231, 4, 232, 4)
	rec := func(b []byte, src string, dport uint16, event uint8, create, ev uint64, fwd, rev uint32) []byte {
		b = append(b, netip.MustParseAddr(src).AsSlice()...)
		b = append(b, 192, 168, 1, 20)
		b = be.AppendUint16(b, 50000)
		b = be.AppendUint16(b, dport)
		b = append(b, 6, event)
		b = be.AppendUint64(b, create)
		b = be.AppendUint64(b, ev)
		b = be.AppendUint32(b, fwd)
		return be.AppendUint32(b, rev)
	}
	var data []byte
	data = rec(data, "203.0.113.9", 443, 1, t0, t0+1, 0, 0)
	data = rec(data, "203.0.113.9", 443, 2, t0, t0+45_000, 700, 52_000)
	data = rec(data, "203.0.113.10", 23, 3, t0+2_000, t0+2_000, 0, 0)
	path := writeV9Packet(t, "asa.pcap", 4, v9Set(0, tpl), v9Set(263, data)) // a template and three records
	st := capStore(t)
	res := capIngest(t, st, path).Files[0]
	want := "firewall events (NSEL): 1 created, 1 deleted, 1 denied; each is a record of its own"
	if res.Flows != 3 || len(res.Notes) != 1 || !strings.HasPrefix(res.Notes[0], want) {
		t.Fatalf("got %d flows, notes %q; want 3 and %q...", res.Flows, res.Notes, want)
	}
	rows := capRows(t, st)
	var torn int
	for _, r := range rows {
		if r.Bytes == 700 {
			torn++
			if r.Start != capBase || r.End != capBase+45e9 || r.RevBytes != 52_000 {
				t.Errorf("deleted connection: got %d..%d, %d reverse bytes", r.Start, r.End, r.RevBytes)
			}
		}
	}
	if len(rows) != 3 || torn != 1 {
		t.Errorf("got %d rows, %d torn down; want 3 and 1", len(rows), torn)
	}
}
