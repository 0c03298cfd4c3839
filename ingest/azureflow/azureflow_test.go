package azureflow

import (
	"bytes"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

var now = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

func readAll(t testing.TB, b []byte) ([]flow.Record, *Reader) {
	r := NewReader(bytes.NewReader(b), now)
	var out []flow.Record
	var rec flow.Record
	for r.Next(&rec) {
		out = append(out, rec)
	}
	return out, r
}

// TestNSGAndVNet: every tuple of an NSG version 2 record and of a VNet
// flow log record is a flow record of its time, with the tuple's counters.
func TestNSGAndVNet(t *testing.T) {
	b, err := os.ReadFile("testdata/nsg_v2_and_vnet.json")
	if err != nil {
		t.Fatal(err)
	}
	if !Sniff(b[:200]) {
		t.Fatal("not sniffed")
	}
	got, r := readAll(t, b)
	if r.Err() != nil || len(r.Rejects()) != 0 || len(got) != 11 || r.Records != 2 || r.NSG != 7 || r.VNet != 4 {
		t.Fatalf("%d records (%d in the document, %d NSG and %d VNet tuples), err %v, rejects %v", len(got), r.Records, r.NSG, r.VNet, r.Err(), r.Rejects())
	}
	a := netip.MustParseAddr
	for i, w := range map[int]flow.Record{
		0: {Start: 1542110402e9, End: 1542110402e9, SrcAddr: a("94.102.49.190"), DstAddr: a("10.5.16.4"), SrcPort: 28746, DstPort: 443,
			Proto: flow.ProtoUDP, Dir: flow.DirIngress, SamplingInterval: 1}, // denied: no counters
		5: {Start: 1542110379e9, End: 1542110379e9, SrcAddr: a("10.5.16.4"), DstAddr: a("13.67.143.115"), SrcPort: 44931, DstPort: 443,
			Proto: flow.ProtoTCP, Dir: flow.DirEgress, Packets: 30, Bytes: 16978, RevPackets: 24, RevBytes: 14008, SamplingInterval: 1},
		8: {Start: 1663146003606e6, End: 1663146003606e6, SrcAddr: a("10.0.0.6"), DstAddr: a("192.0.2.180"), SrcPort: 23956, DstPort: 443,
			Proto: flow.ProtoTCP, Dir: flow.DirEgress, Packets: 3, Bytes: 767, RevPackets: 2, RevBytes: 1580, SamplingInterval: 1},
	} {
		if got[i] != w {
			t.Errorf("record %d:\ngot  %+v\nwant %+v", i, got[i], w)
		}
	}
}

// A document cut short keeps the records before the cut and says where it
// stopped; a bad tuple is rejected with its record and text; version 1
// tuples (no counters) read.
func TestDamaged(t *testing.T) {
	b, err := os.ReadFile("testdata/nsg_v2_and_vnet.json")
	if err != nil {
		t.Fatal(err)
	}
	second := bytes.Index(b, []byte(`{"time":"2022`))
	got, r := readAll(t, b[:second+100])
	if len(got) != 7 || r.Err() == nil || !strings.Contains(r.Err().Error(), "offset") {
		t.Errorf("cut: %d records, err %v; want the first record's 7 and an error with its offset", len(got), r.Err())
	}
	doc := `{"records":[{"time":"x","category":"NetworkSecurityGroupFlowEvent","properties":{"Version":1,"flows":[{"rule":"r","flows":[{"mac":"m","flowTuples":[` +
		`"1542110402,94.102.49.190,10.5.16.4,28746,443,T,I,D","1542110402,94.102.49.190,10.5.16.4,28746,443,T,X,D","1542110402,not-an-ip,10.5.16.4,1,2,T,I,A","42,1.2.3.4,5.6.7.8,1,2,T,I,A"]}]}]}}]}`
	got, r = readAll(t, []byte(doc))
	if len(got) != 1 || r.Err() != nil || r.Rejects()[ReasonBadTuple] != 2 || r.Rejects()[ReasonTooOld] != 1 ||
		len(r.Examples()) != 3 || !strings.HasPrefix(r.Examples()[0], `record 1: bad flow tuple: "1542110402,94.102.49.190`) {
		t.Errorf("%d records, err %v, rejects %v, examples %q", len(got), r.Err(), r.Rejects(), r.Examples())
	}
	if _, r = readAll(t, []byte(`{"value":[]}`)); r.Err() == nil || !strings.Contains(r.Err().Error(), `no "records"`) {
		t.Errorf("no records: %v", r.Err())
	}
}

// TestTupleTimes: a tuple's time is in the unit its digits tell (seconds,
// milliseconds, microseconds), as every epoch flowcase reads; one past the
// year 2262 is rejected as in the future, where it wrapped to a time in
// 2023 and was kept.
func TestTupleTimes(t *testing.T) {
	doc := `{"records":[{"time":"x","category":"NetworkSecurityGroupFlowEvent","properties":{"Version":1,"flows":[{"rule":"r","flows":[{"mac":"m","flowTuples":[` +
		`"20146744073709,1.2.3.4,5.6.7.8,1,2,T,I,A","1542110402000000,1.2.3.4,5.6.7.8,1,2,T,I,A","1542110402001,1.2.3.4,5.6.7.8,1,2,T,I,A"]}]}]}}]}`
	got, r := readAll(t, []byte(doc))
	if len(got) != 2 || got[0].Start != 1542110402e9 || got[1].Start != 1542110402001e6 || r.Rejects()[ReasonFuture] != 1 || len(r.Rejects()) != 1 {
		t.Errorf("%+v, rejects %v", got, r.Rejects())
	}
}

// FuzzReader: no document makes the reader panic or loop, and every
// record it gives has its addresses and a plausible time.
func FuzzReader(f *testing.F) {
	b, err := os.ReadFile("testdata/nsg_v2_and_vnet.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"records":[{"properties":{"flows":[{"flows":[{"flowTuples":["1542110402,::1,::2,1,2,58,O,A,E,1,2,3,4"]}]}]}}],"x":[1,{"y":2}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b), now)
		var rec flow.Record
		for n := 0; r.Next(&rec); n++ {
			if !rec.SrcAddr.IsValid() || !rec.DstAddr.IsValid() || rec.Start < 631152000e9 || rec.End != rec.Start || n > len(b) {
				t.Fatalf("record %+v", rec)
			}
		}
	})
}

// TestLongValue: a string or number longer than MaxValue stops the
// document with an error at its offset, after the records before it; the
// decoder held each value whole (a 1.5 GB string went past 4 GB). Escaped
// quotes stay inside their string.
func TestLongValue(t *testing.T) {
	head := `{"records":[{"time":"x","properties":{"Version":1,"flows":[{"rule":"r","flows":[{"mac":"m","flowTuples":["1542110402,94.102.49.190,10.5.16.4,28746,443,T,I,D"]}]}]}},` +
		`{"time":"a \"quoted\" word","note":"`
	for _, c := range []struct{ name, doc string }{
		{"string", head + strings.Repeat("x", MaxValue+10) + `"}]}`},
		{"number", head + `y","n":` + strings.Repeat("1", MaxValue+10) + `}]}`},
	} {
		got, r := readAll(t, []byte(c.doc))
		if len(got) != 1 || r.Err() == nil || !strings.Contains(r.Err().Error(), ": a value of more than 1048576 bytes") || !strings.HasPrefix(r.Err().Error(), "offset ") {
			t.Errorf("%s: %d records, err %v; want the first record and an error naming the long value", c.name, len(got), r.Err())
		}
	}
	got, r := readAll(t, []byte(head+strings.Repeat("y", 1000)+`"}]}`))
	if len(got) != 1 || r.Err() != nil {
		t.Errorf("short values: %d records, err %v", len(got), r.Err())
	}
}
