package pcap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestIPFIXFile: softflowd_ipfix.ipfix holds the IPFIX messages of
// softflowd_ipfix.pcap one after the other (testdata/softflowd/ipfixfile.py;
// libfixbuf's ipfixDump reads 5 messages, 120 data records). The file yields
// the capture's datagrams' payloads, in order, timed by their export times.
func TestIPFIXFile(t *testing.T) {
	file, err := os.ReadFile(filepath.Join(fixturesDir, "softflowd_ipfix.ipfix"))
	if err != nil {
		t.Fatal(err)
	}
	capture, err := os.ReadFile(filepath.Join(fixturesDir, "softflowd_ipfix.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	want := readAll(t, capture).dgs
	if !SniffIPFIXFile(file) || SniffIPFIXFile(capture) {
		t.Fatalf("sniffed the file %v, the capture %v", SniffIPFIXFile(file), SniffIPFIXFile(capture))
	}
	read := func(b []byte) ([]Datagram, Stats, error) {
		f := NewIPFIXFile(bytes.NewReader(b))
		var out []Datagram
		for d, ok := f.Next(); ok; d, ok = f.Next() {
			c := *d
			c.Payload = bytes.Clone(d.Payload)
			out = append(out, c)
		}
		return out, f.Stats(), f.Err()
	}
	got, st, err := read(file)
	if err != nil || len(got) != 5 || len(want) != 5 || st.Packets != 5 || st.Datagrams != 5 {
		t.Fatalf("%d messages (capture %d), stats %+v, err %v", len(got), len(want), st, err)
	}
	for i := range got {
		if !bytes.Equal(got[i].Payload, want[i].Payload) || got[i].Number != uint64(i+1) ||
			got[i].Time != int64(be.Uint32(want[i].Payload[4:]))*1e9 || got[i].Src != unknownExporter {
			t.Errorf("message %d: #%d at %d from %v, %d bytes", i, got[i].Number, got[i].Time, got[i].Src, len(got[i].Payload))
		}
	}

	// Cut inside the last message: the four before it, the fifth counted.
	got, st, err = read(file[:len(file)-10])
	if err != nil || len(got) != 4 || st.Skipped[ReasonTruncated] != 1 || st.Packets != 5 {
		t.Errorf("cut: %d messages, stats %+v, err %v", len(got), st, err)
	}
	// Something else after the messages: a file error at its offset.
	got, st, err = read(append(bytes.Clone(file), "not ipfix at all"...))
	var fe *FileError
	if !errors.As(err, &fe) || fe.Offset != int64(len(file)) || fe.Packet != 6 || len(got) != 5 || st.Skipped[ReasonBadBlock] != 1 {
		t.Errorf("trailing garbage: %d messages, stats %+v, err %v", len(got), st, err)
	}
}

// FuzzIPFIXFile: any bytes read as an IPFIX File end without a panic, each
// message counted once, none longer than its header says.
func FuzzIPFIXFile(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(fixturesDir, "softflowd_ipfix.ipfix"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewIPFIXFile(bytes.NewReader(b))
		n := 0
		for d, ok := r.Next(); ok; d, ok = r.Next() {
			if len(d.Payload) < ipfixHeader || int(be.Uint16(d.Payload[2:])) != len(d.Payload) {
				t.Fatalf("message %d: %d bytes", d.Number, len(d.Payload))
			}
			n++
		}
		st := r.Stats()
		var skipped uint64
		for _, v := range st.Skipped {
			skipped += v
		}
		if st.Datagrams != uint64(n) || st.Packets != st.Datagrams+skipped {
			t.Fatalf("%d messages, stats %+v", n, st)
		}
	})
}
