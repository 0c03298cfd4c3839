package pcap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/flowcase/flowcase/internal/truthcsv"
)

// The shared real captures (never committed: see their README and SOURCES.md), or a skip.
func capturesDir(t *testing.T) string { return truthcsv.CapturesDir(t) }

func captureFiles(t *testing.T, root string, subdirs ...string) []string {
	var out []string
	for _, sub := range subdirs {
		filepath.WalkDir(filepath.Join(root, sub), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng") || strings.HasSuffix(p, ".gz")) {
				out = append(out, p)
			}
			return nil
		})
	}
	if len(out) == 0 {
		t.Skipf("no captures under %s", root)
	}
	return out
}

// hostileWant is what each shared hostile file must give (TRUTH.md, "Hostile files").
var hostileWant = map[string]struct {
	datagrams int
	skipped   map[string]uint64
	err       *FileError
}{
	"h1_truncated_midpacket__pmacct101_nfv9.pcap":  {20, map[string]uint64{ReasonTruncated: 1}, nil},
	"h2_v9_flowset_length_overrun__pmacct101.pcap": {40, nil, nil},
	"h3_v9_flowset_length_short__pmacct101.pcap":   {40, nil, nil},
	// MANIFEST.txt gives the offset of the caplen field (4824), 8 bytes into the record header.
	"h4_pcap_huge_caplen__pmacct101_nfv9.pcap": {20, map[string]uint64{ReasonCaplenHuge: 1},
		&FileError{Packet: 21, Offset: 4816, Reason: ReasonCaplenHuge}},
	"h5_ipfix_set_length_zero__pmacct100.pcap": {6, nil, nil},
	"h6_v5_count_lies__akvorado_nfv5.pcap":     {1, nil, nil},
	"h7_snaplen96__pmacct100_ipfix.pcap":       {0, map[string]uint64{ReasonSnapCut: 6}, nil},
}

// TestRealCaptures reads every shared capture and checks the datagrams against tshark (when
// installed), gopacket's decoders, tshark's truth summaries and, for the hostile files, the
// expected outcome. -short leaves tshark out (it takes most of the time).
func TestRealCaptures(t *testing.T) {
	root := capturesDir(t)
	_, errTshark := exec.LookPath("tshark")
	for _, path := range captureFiles(t, root, "public", "generated", "hostile") {
		rel, _ := filepath.Rel(root, path)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res := readAll(t, b)
			if w, ok := hostileWant[filepath.Base(path)]; ok {
				checkHostile(t, res, w.datagrams, w.skipped, w.err)
			} else if _, cut := res.st.Skipped[ReasonSnapCut]; res.err != nil || len(res.st.Skipped) > 0 && !(cut && len(res.st.Skipped) == 1) {
				t.Errorf("got error %v, skipped %v; want no error and nothing skipped but packets cut by the snap length", res.err, res.st.Skipped)
			}
			checkTruthSummary(t, root, rel, res)
			crossCheckGopacket(t, b, res)
			if errTshark == nil && !testing.Short() {
				crossCheckTshark(t, path, res)
			}
		})
	}
}

func checkHostile(t *testing.T, res result, datagrams int, skipped map[string]uint64, want *FileError) {
	t.Helper()
	if len(res.dgs) != datagrams || fmt.Sprint(res.st.Skipped) != fmt.Sprint(orEmpty(skipped)) {
		t.Errorf("got %d datagrams, skipped %v; want %d, %v", len(res.dgs), res.st.Skipped, datagrams, skipped)
	}
	fe := fileError(res.err)
	switch {
	case want == nil && res.err != nil:
		t.Errorf("got error %v, want none", res.err)
	case want != nil && (fe == nil || fe.Packet != want.Packet || fe.Offset != want.Offset || fe.Reason != want.Reason):
		t.Errorf("got error %v, want packet %d at offset %d: %s", res.err, want.Packet, want.Offset, want.Reason)
	}
}

// checkTruthSummary compares with truth/<set>/<name>.summary.json: tshark's frame count, and
// its count of NetFlow/IPFIX packets (all of them UDP datagrams, unless cut by the snap length).
func checkTruthSummary(t *testing.T, root, rel string, res result) {
	t.Helper()
	set := strings.ReplaceAll(filepath.Dir(rel), string(filepath.Separator), "_")
	name := strings.TrimSuffix(filepath.Base(rel), filepath.Ext(rel))
	raw, err := os.ReadFile(filepath.Join(root, "truth", set, name+".summary.json"))
	if err != nil {
		return
	}
	var s struct {
		Frames        uint64 `json:"frames"`
		ExportPackets uint64 `json:"export_packets"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("truth summary: %v", err)
	}
	readable := res.st.Packets - res.st.Skipped[ReasonTruncated] - res.st.Skipped[ReasonCaplenHuge]
	if readable != s.Frames || res.st.Datagrams+res.st.Skipped[ReasonSnapCut] < s.ExportPackets {
		t.Errorf("got %d whole packets, %d datagrams (+%d cut); tshark: %d frames, %d export packets",
			readable, res.st.Datagrams, res.st.Skipped[ReasonSnapCut], s.Frames, s.ExportPackets)
	}
}

// tsharkFrame is what tshark says of one frame carrying UDP directly over IP.
type tsharkFrame struct {
	cut                     bool // captured shorter than on the wire
	sport, dport, udpLength int
}

// crossCheckTshark compares the datagrams with the frames tshark dissects as UDP right over
// IP (not UDP quoted in ICMP errors, not inner UDP of tunnels; IP fragments reassembled).
func crossCheckTshark(t *testing.T, path string, res result) {
	t.Helper()
	want := tsharkUDP(t, path)
	got := map[uint64]Datagram{}
	for _, d := range res.dgs {
		got[d.Number] = d
	}
	var cut uint64
	for n, w := range want {
		d, ok := got[n]
		switch {
		case !ok && w.cut:
			cut++
		case !ok:
			t.Errorf("frame %d: tshark sees UDP %d -> %d, the reader returned nothing", n, w.sport, w.dport)
		case int(d.Src.Port()) != w.sport || int(d.Dst.Port()) != w.dport || len(d.Payload) != w.udpLength-8:
			t.Errorf("frame %d: got %v -> %v, %d bytes; tshark: ports %d -> %d, udp.length %d", n, d.Src, d.Dst, len(d.Payload), w.sport, w.dport, w.udpLength)
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("frame %d: the reader returned a datagram tshark does not see", n)
		}
	}
	if cut > res.st.Skipped[ReasonSnapCut] { // the reader also counts frames cut before their UDP header
		t.Errorf("%d UDP frames cut by the snap length per tshark, %d skipped as such", cut, res.st.Skipped[ReasonSnapCut])
	}
}

func tsharkUDP(t *testing.T, path string) map[uint64]tsharkFrame {
	t.Helper()
	out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-E", "occurrence=f",
		"-e", "frame.number", "-e", "frame.protocols", "-e", "frame.len", "-e", "frame.cap_len",
		"-e", "udp.srcport", "-e", "udp.dstport", "-e", "udp.length").Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("tshark: %v", err)
	}
	frames := map[uint64]tsharkFrame{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 7 || !udpOverIP(f[1]) {
			continue
		}
		n, _ := strconv.ParseUint(f[0], 10, 64)
		atoi := func(s string) int { v, _ := strconv.Atoi(s); return v }
		frames[n] = tsharkFrame{cut: atoi(f[3]) < atoi(f[2]), sport: atoi(f[4]), dport: atoi(f[5]), udpLength: atoi(f[6])}
	}
	return frames
}

// udpOverIP reports whether frame.protocols (eth:ethertype:ip:udp:cflow...) has udp right
// after the first ip or ipv6 (and its extension headers).
func udpOverIP(protocols string) bool {
	p := strings.Split(protocols, ":")
	for i, s := range p {
		if s != "ip" && s != "ipv6" {
			continue
		}
		for _, q := range p[i+1:] {
			if !strings.HasPrefix(q, "ipv6.") {
				return q == "udp"
			}
		}
		return false
	}
	return false
}

// crossCheckGopacket decodes every packet of b with gopacket's layers as a second opinion:
// each non-fragmented UDP packet it finds must be a datagram with the same addresses, ports
// and payload; the reader's other datagrams must be exactly its reassembled ones.
func crossCheckGopacket(t *testing.T, b []byte, res result) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b), FormatAuto)
	if err != nil {
		return
	}
	got := map[uint64]Datagram{}
	for _, d := range res.dgs {
		got[d.Number] = d
	}
	seen := 0
	for {
		p, err := r.src.next()
		if err != nil {
			break
		}
		want, ok := gopacketUDP(p)
		if !ok {
			continue
		}
		seen++
		d, found := got[p.number]
		if !found || d.Src != want.Src || d.Dst != want.Dst || !bytes.Equal(d.Payload, want.Payload) {
			t.Errorf("packet %d: got %v -> %v %d bytes (found %v); gopacket: %v -> %v %d bytes",
				p.number, d.Src, d.Dst, len(d.Payload), found, want.Src, want.Dst, len(want.Payload))
		}
	}
	if uint64(len(got)-seen) != res.st.Reassembled {
		t.Errorf("%d datagrams, gopacket found %d unfragmented, %d reassembled", len(got), seen, res.st.Reassembled)
	}
}

// gopacketUDP decodes p with gopacket (v1.1.19 has no Linux SLL2: its 20-byte header is
// stripped here) and returns its UDP datagram, if it is unfragmented UDP right over IP.
func gopacketUDP(p packet) (Datagram, bool) {
	data, first := p.data, gopacket.LayerType(0)
	switch p.link {
	case linkEthernet:
		first = layers.LayerTypeEthernet
	case linkSLL:
		first = layers.LayerTypeLinuxSLL
	case linkSLL2:
		if len(data) < 20 {
			return Datagram{}, false
		}
		first, data = layers.EthernetType(be.Uint16(data)).LayerType(), data[20:]
	case linkNull, linkLoop:
		first = layers.LayerTypeLoopback
	case linkIPv4:
		first = layers.LayerTypeIPv4
	case linkIPv6:
		first = layers.LayerTypeIPv6
	case linkRaw, linkRaw12, linkRaw14:
		if len(data) > 0 && data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		} else {
			first = layers.LayerTypeIPv4
		}
	default:
		return Datagram{}, false
	}
	pkt := gopacket.NewPacket(data, first, gopacket.Default)
	var src, dst netip.Addr
	for _, l := range pkt.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			if src.IsValid() || l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0 {
				return Datagram{}, false
			}
			src, dst = netip.AddrFrom4([4]byte(l.SrcIP.To4())), netip.AddrFrom4([4]byte(l.DstIP.To4()))
		case *layers.IPv6:
			if src.IsValid() {
				return Datagram{}, false
			}
			src, dst = netip.AddrFrom16([16]byte(l.SrcIP.To16())), netip.AddrFrom16([16]byte(l.DstIP.To16()))
		case *layers.IPv6Fragment:
			return Datagram{}, false
		case *layers.UDP:
			if !src.IsValid() || l.Length < 8 || int(l.Length) > 8+len(l.Payload) { // cut: gopacket keeps what is there
				return Datagram{}, false
			}
			return Datagram{Src: netip.AddrPortFrom(src, uint16(l.SrcPort)), Dst: netip.AddrPortFrom(dst, uint16(l.DstPort)), Payload: l.Payload}, true
		case *layers.ICMPv4, *layers.ICMPv6, *layers.TCP, *layers.GRE:
			return Datagram{}, false
		}
	}
	return Datagram{}, false
}
