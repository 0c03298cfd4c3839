package netflow

import (
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestFixedLayout: templates without variable-length fields decode through
// the fixed-layout path, and it gives the records the field-by-field walk
// gives (the path taken when the layout is not fixed).
func TestFixedLayout(t *testing.T) {
	tpl := v9Header(1, 500_000, testSecs, 1, 0)
	tpl.set(0, func(p *pkt) { p.u16(256).u16(uint16(len(v9FlowTemplate) / 2)).fields(v9FlowTemplate...) })
	data := v9Header(5, 500_000, testSecs, 2, 0)
	data.set(256, func(p *pkt) {
		for i := 0; i < 5; i++ {
			v9FlowRecord(p, "10.0.0.1", "10.0.0.2", uint16(1000+i), 443, 1500+uint32(i), 3, 490_000, 499_000)
		}
		p.u8(0).u8(0) // padding
	})
	decode := func(fixed bool) []flow.Record {
		d := NewDecoder(nil)
		d.Decode(Packet{Exporter: testExporter, Payload: tpl.b}, nil)
		tm := d.Templates.Get(TemplateKey{exporterKey(testExporter), 0, 256, 9})
		if tm == nil || tm.fixedLen != tm.minLen || len(tm.fixed) != 12 {
			t.Fatalf("got template %+v, want a fixed layout of %d bytes with 12 decoded fields", tm, tm.minLen)
		}
		if !fixed {
			tm.fixed, tm.fixedLen = nil, 0
		}
		var out []flow.Record
		info, err := d.Decode(Packet{Exporter: testExporter, Payload: data.b}, func(r *flow.Record) { out = append(out, *r) })
		if err != nil || info.Records != 5 || info.Skipped != ([NumReasons]uint32{}) {
			t.Fatalf("got %d records, skipped %v, %v; want 5, none", info.Records, info.Skipped, err)
		}
		return out
	}
	got, want := decode(true), decode(false)
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
		if got[i].Bytes != 1500+uint64(i) || got[i].SrcPort != uint16(1000+i) || got[i].SrcAddr.String() != "10.0.0.1" {
			t.Errorf("record %d: got bytes %d, port %d, source %s", i, got[i].Bytes, got[i].SrcPort, got[i].SrcAddr)
		}
	}
}
