package ingest

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/meter"
	"github.com/flowcase/flowcase/internal/flow"
)

// meterIngest ingests paths with --meter and fails on any file error.
func meterIngest(t *testing.T, st *index.Store, cfg meter.Config, paths ...string) *Summary {
	t.Helper()
	return ingestWith(t, st, Options{Version: "test", Meter: true, MeterConfig: cfg}, paths...)
}

type flowKey struct {
	src, dst     string
	sport, dport uint16
	proto        uint8
}

func keyOf(r *flow.Record) flowKey {
	return flowKey{r.SrcAddr.String(), r.DstAddr.String(), r.SrcPort, r.DstPort, r.Proto}
}

// TestMeterAgainstSoftflowd meters the packets softflowd exported as
// softflowd_ipfix.pcap (traffic.pcap, gen_traffic.py's deterministic
// capture) and checks every flow against softflowd's own record of it:
// bytes, packets, TCP flags, ICMP type and code, first and last packet
// (IPFIX carries milliseconds).
func TestMeterAgainstSoftflowd(t *testing.T) {
	exported := capStore(t)
	capIngest(t, exported, filepath.Join(softflowdDir, "softflowd_ipfix.pcap"))
	want := map[flowKey]flow.Record{}
	for _, r := range capRows(t, exported) {
		if _, dup := want[keyOf(&r)]; dup {
			t.Fatalf("softflowd exported %v twice", keyOf(&r))
		}
		want[keyOf(&r)] = r
	}

	metered := capStore(t)
	sum := meterIngest(t, metered, meter.Config{}, filepath.Join(softflowdDir, "traffic.pcap.gz"))
	res := sum.Files[0]
	if res.Format != "pcap metered+gzip" || res.Flows != 119 || len(res.Rejected) != 0 {
		t.Fatalf("format %q, %d flows, rejects %v; want pcap metered+gzip, 119, none", res.Format, res.Flows, res.Rejected)
	}
	if want := "metered 468 IP packets (266578 bytes) into 119 flows (idle timeout 15s, active 30m0s); 0 packets not IP"; len(res.Notes) != 1 || res.Notes[0] != want {
		t.Errorf("notes %q, want [%q]", res.Notes, want)
	}
	got := capRows(t, metered)
	var bytes, packets uint64
	const ms = int64(time.Millisecond)
	spans, softflowd := map[flowKey]*[2]int64{}, map[flowKey][2]int64{}
	for _, r := range got {
		bytes, packets = bytes+r.Bytes, packets+r.Packets
		w, ok := want[keyOf(&r)]
		if !ok {
			t.Errorf("metered %v, which softflowd did not export", keyOf(&r))
			continue
		}
		delete(want, keyOf(&r))
		if r.Bytes != w.Bytes || r.Packets != w.Packets || r.TCPFlags != w.TCPFlags || r.ICMPType != w.ICMPType || r.ICMPCode != w.ICMPCode {
			t.Errorf("%v: bytes %d packets %d flags %#x icmp %d/%d; softflowd %d %d %#x %d/%d", keyOf(&r),
				r.Bytes, r.Packets, r.TCPFlags, r.ICMPType, r.ICMPCode, w.Bytes, w.Packets, w.TCPFlags, w.ICMPType, w.ICMPCode)
		}
		// softflowd dates both records of a TCP or UDP conversation by its
		// first and last packet either way; the meter dates each direction
		// by its own. Both ways together, they agree.
		if r.Start < w.Start-ms || r.End > w.End+ms {
			t.Errorf("%v: %d..%d, outside softflowd's %d..%d", keyOf(&r), r.Start, r.End, w.Start, w.End)
		}
		span := spans[convKey(&r)]
		if span == nil {
			span = &[2]int64{r.Start, r.End}
			spans[convKey(&r)] = span
		}
		span[0], span[1] = min(span[0], r.Start), max(span[1], r.End)
		if sf, ok := softflowd[convKey(&r)]; ok {
			w.Start, w.End = min(w.Start, sf[0]), max(w.End, sf[1])
		}
		softflowd[convKey(&r)] = [2]int64{w.Start, w.End}
		if r.Exporter.IsValid() || r.SamplingInterval != 1 {
			t.Errorf("%v: exporter %v sampling %d; want none and 1", keyOf(&r), r.Exporter, r.SamplingInterval)
		}
	}
	for k := range want {
		t.Errorf("softflowd exported %v, not metered", k)
	}
	for k, w := range softflowd {
		if g := spans[k]; abs(g[0]-w[0]) >= ms || abs(g[1]-w[1]) >= ms {
			t.Errorf("%v: metered both ways %d..%d, softflowd %d..%d", k, g[0], g[1], w[0], w[1])
		}
	}
	if bytes != 266578 || packets != 468 {
		t.Errorf("%d bytes in %d packets, want 266578 in 468 (all of traffic.pcap)", bytes, packets)
	}

	// The same bytes are one source for each way of reading them.
	again := meterIngest(t, metered, meter.Config{}, filepath.Join(softflowdDir, "traffic.pcap.gz"))
	if !again.Files[0].Duplicate {
		t.Errorf("metered twice: %+v", again.Files[0])
	}
	plain := capIngest(t, metered, filepath.Join(softflowdDir, "traffic.pcap.gz")).Files[0]
	if plain.Duplicate || plain.Flows != 0 || len(plain.Notes) != 1 || !strings.Contains(plain.Notes[0], "--meter") {
		t.Errorf("read for exports after metering: %+v", plain)
	}
}

func abs(d int64) int64 { return max(d, -d) }

// convKey is a record's conversation: its key with the lower end first.
func convKey(r *flow.Record) flowKey {
	k := keyOf(r)
	if k.src > k.dst || (k.src == k.dst && k.sport > k.dport) {
		k.src, k.dst, k.sport, k.dport = k.dst, k.src, k.dport, k.sport
	}
	return k
}

// TestMeterTimeouts: the idle timeout splits a conversation at a pause, the
// active timeout splits a long one, and a new connection on the same ports
// after a FIN starts a new record; records come out complete and in order.
func TestMeterTimeouts(t *testing.T) {
	path := filepath.Join(softflowdDir, "traffic.pcap.gz")
	cases := []struct {
		cfg   meter.Config
		flows int64
		key   flowKey // the UDP beacon: 12 packets, 10 s apart
		parts int
	}{
		{meter.Config{}, 119, beaconKey, 1},
		{meter.Config{Idle: 9 * time.Second}, 130, beaconKey, 12},
		{meter.Config{Active: 25 * time.Second}, 0, beaconKey, 4}, // 0 to 110 s: records of 3 packets, 20 s each
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("idle=%v,active=%v", c.cfg.Idle, c.cfg.Active), func(t *testing.T) {
			st := capStore(t)
			res := meterIngest(t, st, c.cfg, path).Files[0]
			if c.flows != 0 && res.Flows != c.flows {
				t.Errorf("%d flows, want %d", res.Flows, c.flows)
			}
			var parts []flow.Record
			var packets uint64
			for _, r := range capRows(t, st) {
				packets += r.Packets
				if keyOf(&r) == c.key {
					parts = append(parts, r)
				}
			}
			if packets != 468 {
				t.Errorf("%d packets in all, want 468", packets)
			}
			slices.SortFunc(parts, func(a, b flow.Record) int { return cmp.Compare(a.Start, b.Start) })
			if len(parts) != c.parts {
				t.Fatalf("the beacon in %d records, want %d", len(parts), c.parts)
			}
			var n uint64
			for i, p := range parts {
				n += p.Packets
				if p.Bytes != 92*p.Packets || (i > 0 && p.Start <= parts[i-1].End) {
					t.Errorf("record %d: %d bytes %d packets %d..%d", i, p.Bytes, p.Packets, p.Start, p.End)
				}
			}
			if n != 12 {
				t.Errorf("the beacon's records hold %d packets, want 12", n)
			}
		})
	}
}

var beaconKey = flowKey{"10.1.0.13", "203.0.113.50", 51000, 8443, 17}

// TestMeterOverlays: the first 40 frames of traffic.pcap, sent whole inside
// VXLAN (even frames) and ERSPAN II (odd ones), as a mirroring session
// delivers them, meter into the same flows as the frames themselves.
func TestMeterOverlays(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(mustReadFile(t, filepath.Join(softflowdDir, "traffic.pcap.gz"))))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	le, be := binary.LittleEndian, binary.BigEndian
	plain, overlay := bytes.Clone(data[:24]), bytes.Clone(data[:24])
	outer := func(proto byte, dst byte, payload []byte) []byte {
		ip := []byte{0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 198, 51, 100, 1, 198, 51, 100, dst}
		be.PutUint16(ip[2:], uint16(20+len(payload)))
		return append(append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}, ip...), payload...)
	}
	for i, off := 0, 24; i < 40; i++ {
		hdr, n := data[off:off+16], int(le.Uint32(data[off+8:]))
		frame := data[off+16 : off+16+n]
		plain = append(append(plain, hdr...), frame...)
		var pkt []byte
		if i%2 == 0 {
			vx := append([]byte{8, 0, 0, 0, 0, 0x10, 0x92, 0}, frame...) // VNI 4242
			udp := be.AppendUint16(be.AppendUint16(nil, uint16(50000+i)), 4789)
			udp = append(be.AppendUint16(be.AppendUint16(udp, uint16(8+len(vx))), 0), vx...)
			pkt = outer(17, 2, udp)
		} else {
			gre := []byte{0x10, 0, 0x88, 0xBE, 0, 0, 0, byte(i), 0x10, 0, 0, 7, 0, 0, 0, 0} // sequence, then ERSPAN II
			pkt = outer(47, 3, append(gre, frame...))
		}
		rec := bytes.Clone(hdr)
		le.PutUint32(rec[8:], uint32(len(pkt)))
		le.PutUint32(rec[12:], uint32(len(pkt)))
		overlay = append(append(overlay, rec...), pkt...)
		off += 16 + n
	}
	dir := t.TempDir()
	rows := func(name string, b []byte) ([]flow.Record, FileResult) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		st := capStore(t)
		res := meterIngest(t, st, meter.Config{}, path).Files[0]
		return capRows(t, st), res
	}
	want, _ := rows("plain.pcap", plain)
	got, res := rows("overlay.pcap", overlay)
	if len(got) != 9 || len(want) != 9 {
		t.Fatalf("%d flows from the overlays, %d from the frames; want 9", len(got), len(want))
	}
	for i := range want {
		want[i].SourceID = got[i].SourceID
		if got[i] != want[i] {
			t.Errorf("flow %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if note := "40 packets metered inside the overlay that carried them (VXLAN, GRE bridging, ERSPAN)"; !slices.Contains(res.Notes, note) {
		t.Errorf("notes %q, want %q", res.Notes, note)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMeterUnsetClock: packets captured by a machine whose clock was not
// set (nDPI's gnutella.pcap is dated 1970) meter into flows kept at those
// times, and the note blames the capturing machine's clock, not an
// exporter's.
func TestMeterUnsetClock(t *testing.T) {
	zr, err := gzip.NewReader(bytes.NewReader(mustReadFile(t, filepath.Join(softflowdDir, "traffic.pcap.gz"))))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatalf("traffic.pcap: magic %x, want a little-endian microsecond pcap", b[:4])
	}
	// Move every packet back to 60 s after the epoch, keeping their spacing.
	first := binary.LittleEndian.Uint32(b[24:])
	for off := 24; off+16 <= len(b); {
		ts := binary.LittleEndian.Uint32(b[off:])
		binary.LittleEndian.PutUint32(b[off:], ts-first+60)
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
	path := filepath.Join(t.TempDir(), "unset-clock.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	st := capStore(t)
	res := meterIngest(t, st, meter.Config{}, path).Files[0]
	if res.Flows != 119 {
		t.Errorf("%d flows, want 119 (as dated right)", res.Flows)
	}
	want := "119 flows are dated before 1990 (1970-01-01T00:01:00Z to 1970-01-01T00:02:50Z): " +
		"the clock of the machine that captured the packets was not set; they are kept at those times"
	if !slices.Contains(res.Notes, want) {
		t.Errorf("notes %q: want %q", res.Notes, want)
	}
}
