package meter

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/ingest/pcap"
	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/truthcsv"
)

// TestRawCaptures meters the shared real traffic captures (public/raw:
// nDPI's application samples, nfdump's IPv6 and GRE samples, tcpdump's DNS
// over TCP and MPTCP) and checks every packet's headers against tshark's
// decoding of it, and every flow's packets, flags and bytes against what
// tshark's packets add up to per 5-tuple. softflowd's IPFIX exports of the
// same captures (generated/softflowd) give the same 5-tuples, packets and
// flags; its bytes count each frame's Ethernet padding as IP bytes, so they
// are the tshark sums plus the padding (checked too). Skipped without the
// captures or tshark.
func TestRawCaptures(t *testing.T) {
	dir := truthcsv.CapturesDir(t)
	raws, _ := filepath.Glob(filepath.Join(dir, "public", "raw", "*.pcap"))
	if len(raws) == 0 {
		t.Skipf("no raw captures in %s", dir)
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("no tshark")
	}
	for _, raw := range raws {
		name := strings.TrimSuffix(filepath.Base(raw), ".pcap")
		t.Run(name, func(t *testing.T) {
			truth := tsharkPackets(t, raw)
			b, err := os.ReadFile(raw)
			if err != nil {
				t.Fatal(err)
			}
			rd, err := pcap.NewReader(bytes.NewReader(b), pcap.FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			flows := map[string]*flow.Record{}
			m := New(Config{Idle: 1 << 62, Active: 1 << 62}, func(r *flow.Record) { // one record per 5-tuple
				c := *r
				flows[recKey(&c)] = &c
			})
			sums := map[string]*flow.Record{}
			n := 0
			for h, ok := rd.NextHeaders(); ok; h, ok = rd.NextHeaders() {
				n++
				w, ok := truth[h.Number]
				if !ok {
					t.Errorf("packet %d: metered, tshark sees no IP", h.Number)
					continue
				}
				if w.headers != fmt.Sprint(h.Src, h.Dst, h.Proto, h.SrcPort, h.DstPort, h.TCPFlags, h.Length, h.ICMPType, h.ICMPCode) {
					t.Errorf("packet %d: got %v %v %d %d %d %#x %d %d/%d, tshark %s", h.Number,
						h.Src, h.Dst, h.Proto, h.SrcPort, h.DstPort, h.TCPFlags, h.Length, h.ICMPType, h.ICMPCode, w.headers)
				}
				m.Add(h)
				k := fmt.Sprint(h.Src, h.Dst, h.SrcPort, h.DstPort, h.Proto)
				if h.Proto == flow.ProtoICMP || h.Proto == flow.ProtoICMPv6 {
					k = fmt.Sprint(h.Src, h.Dst, 0, 0, h.Proto)
				}
				s := sums[k]
				if s == nil {
					s = &flow.Record{}
					sums[k] = s
				}
				s.Bytes, s.Packets, s.TCPFlags, s.PostBytes = s.Bytes+uint64(h.Length), s.Packets+1, s.TCPFlags|h.TCPFlags, s.PostBytes+w.padding
			}
			m.Flush()
			if n != len(truth) || rd.Err() != nil {
				t.Errorf("metered %d packets, tshark sees %d IP packets; err %v", n, len(truth), rd.Err())
			}
			sfd := exportedFlows(t, filepath.Join(dir, "truth", "generated_softflowd", "sfd__"+name+"__v10.csv"))
			if len(flows) != len(sums) || len(flows) != len(sfd) {
				t.Errorf("%d flows, %d 5-tuples in tshark's packets, %d in softflowd's export", len(flows), len(sums), len(sfd))
			}
			for k, r := range flows {
				s, e := sums[k], sfd[k]
				if s == nil || e == nil {
					t.Errorf("%s: metered; tshark's sum %v, softflowd %v", k, s, e)
					continue
				}
				if r.Bytes != s.Bytes || r.Packets != s.Packets || r.TCPFlags != s.TCPFlags ||
					e.Packets != r.Packets || e.TCPFlags != r.TCPFlags || e.Bytes != r.Bytes+s.PostBytes {
					t.Errorf("%s: %d bytes %d packets flags %#x; tshark %d %d %#x (padding %d); softflowd %d %d %#x",
						k, r.Bytes, r.Packets, r.TCPFlags, s.Bytes, s.Packets, s.TCPFlags, s.PostBytes, e.Bytes, e.Packets, e.TCPFlags)
				}
			}
		})
	}
}

func recKey(r *flow.Record) string {
	return fmt.Sprint(r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, r.Proto)
}

type tsharkPacket struct {
	headers string // as the test prints Headers
	padding uint64 // Ethernet trailer bytes
}

// tsharkPackets decodes every IP packet of a capture with tshark (the
// outermost IP header, as a meter reads it).
func tsharkPackets(t *testing.T, path string) map[uint64]tsharkPacket {
	t.Helper()
	fields := []string{"frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.proto", "ipv6.nxt",
		"ip.len", "ipv6.plen", "ip.frag_offset", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
		"tcp.flags", "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code", "eth.padding", "eth.trailer",
		"ipv6.hopopts.nxt", "ipv6.dstopts.nxt", "ipv6.routing.nxt", "ipv6.fraghdr.nxt"}
	args := []string{"-r", path, "-T", "fields", "-E", "occurrence=f", "-E", "separator=|"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	num := func(s string) uint64 { v, _ := strconv.ParseUint(s, 0, 64); return v } // flags come in hex
	res := map[uint64]tsharkPacket{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != len(fields) || (f[1] == "" && f[3] == "") {
			continue // not IP
		}
		src, dst, proto, length := f[1], f[2], num(f[5]), num(f[7])
		if src == "" {
			src, dst, proto, length = f[3], f[4], num(f[6]), 40+num(f[8])
			// The transport protocol is the next header after the extension headers.
			for range 4 {
				next := map[uint64]string{0: f[21], 60: f[22], 43: f[23], 44: f[24]}[proto]
				if next == "" {
					break
				}
				proto = num(next)
			}
		}
		sport, dport := num(f[10])+num(f[12]), num(f[11])+num(f[13])
		flags := num(f[14]) & 0xff
		it, ic := num(f[15])+num(f[17]), num(f[16])+num(f[18])
		if num(f[9]) != 0 { // a later fragment
			sport, dport, flags, it, ic = 0, 0, 0, 0, 0
		}
		if proto == 1 || proto == 58 {
			sport, dport = 0, 0
		}
		a, b := netip.MustParseAddr(src), netip.MustParseAddr(dst)
		res[num(f[0])] = tsharkPacket{
			headers: fmt.Sprint(a, b, uint8(proto), uint16(sport), uint16(dport), uint8(flags), uint32(length), uint8(it), uint8(ic)),
			padding: uint64(len(f[19])/2 + len(f[20])/2),
		}
	}
	return res
}

// exportedFlows sums the flow records of softflowd's export of a raw
// capture per 5-tuple, from tshark's rows of it (the shared truth).
func exportedFlows(t *testing.T, path string) map[string]*flow.Record {
	t.Helper()
	rows, err := truthcsv.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]*flow.Record{}
	for _, row := range truthcsv.Flows(rows) {
		n := func(k string) uint64 { v, _ := strconv.ParseUint(row[k], 0, 64); return v }
		k := fmt.Sprint(netip.MustParseAddr(row["src_ip"]), netip.MustParseAddr(row["dst_ip"]), n("src_port"), n("dst_port"), n("proto"))
		r := res[k]
		if r == nil {
			r = &flow.Record{}
			res[k] = r
		}
		r.Bytes, r.Packets, r.TCPFlags = r.Bytes+n("bytes"), r.Packets+n("packets"), r.TCPFlags|uint8(n("tcp_flags"))
	}
	return res
}
