package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// recordWriter writes flows as a table, JSON (an array), NDJSON or CSV.
// JSON and CSV times are RFC 3339 UTC with fractional seconds; --tz
// changes only the table.
type recordWriter struct {
	w      io.Writer
	format string
	tz     *time.Location
	hashes map[uint32]string
	tw     *tabwriter.Writer
	cw     *csv.Writer
	n      int
	buf    []byte
}

// outputFields are the keys of a flow in JSON, NDJSON and CSV, in order.
// `ingest` reads every one of them back.
var outputFields = []string{
	"src_ip", "dst_ip", "src_port", "dst_port", "protocol", "bytes_in", "bytes_out", "packets", "packets_out",
	"tcp_flags", "start", "end", "duration", "icmp_type", "icmp_code", "in_if", "out_if", "src_as", "dst_as",
	"next_hop", "vlan", "exporter", "observation_domain", "sampling_interval", "source",
	"post_bytes", "post_packets", "flow_direction", "nat_src_ip", "nat_dst_ip", "nat_src_port", "nat_dst_port",
}

func newRecordWriter(w io.Writer, format string, tz *time.Location, hashes map[uint32]string) *recordWriter {
	rw := &recordWriter{w: w, format: format, tz: tz, hashes: hashes}
	switch format {
	case "table":
		rw.tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(rw.tw, "START\tDURATION\tPROTO\tSRC\tDST\tFLAGS\tPACKETS\tBYTES\tPACKETS_OUT\tBYTES_OUT")
	case "csv":
		rw.cw = csv.NewWriter(w)
		rw.cw.Write(outputFields)
	case "json":
		io.WriteString(w, "[")
	}
	return rw
}

func (rw *recordWriter) write(r *flow.Record) {
	switch rw.format {
	case "table":
		rw.writeTable(r)
	case "csv":
		rw.cw.Write(rw.csvRow(r))
	case "json":
		if rw.n > 0 {
			io.WriteString(rw.w, ",")
		}
		io.WriteString(rw.w, "\n  ")
		rw.buf = rw.appendJSON(rw.buf[:0], r)
		rw.w.Write(rw.buf)
	case "ndjson":
		rw.buf = append(rw.appendJSON(rw.buf[:0], r), '\n')
		rw.w.Write(rw.buf)
	}
	rw.n++
}

func (rw *recordWriter) close() {
	switch rw.format {
	case "table":
		rw.tw.Flush()
	case "csv":
		rw.cw.Flush()
	case "json":
		if rw.n > 0 {
			io.WriteString(rw.w, "\n")
		}
		io.WriteString(rw.w, "]\n")
	}
}

func (rw *recordWriter) writeTable(r *flow.Record) {
	start := time.Unix(0, r.Start).In(rw.tz).Format("2006-01-02 15:04:05.000")
	dur := time.Duration(r.End - r.Start).Round(time.Millisecond)
	fmt.Fprintf(rw.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", start, dur, flow.ProtoName(r.Proto),
		hostPort(r.SrcAddr, r.SrcPort), hostPort(r.DstAddr, r.DstPort), flagString(r.TCPFlags),
		r.Packets, r.Bytes, r.RevPackets, r.RevBytes)
	if rw.n%1000 == 999 {
		rw.tw.Flush()
	}
}

func hostPort(a netip.Addr, p uint16) string {
	if !a.IsValid() {
		return "-"
	}
	return netip.AddrPortFrom(a, p).String()
}

// flagString writes TCP flags the way nfdump does: CEUAPRSF, a dot for each
// flag not set.
func flagString(f uint8) string {
	const letters = "CEUAPRSF"
	b := []byte("........")
	for i := range 8 {
		if f&(0x80>>i) != 0 {
			b[i] = letters[i]
		}
	}
	return string(b)
}

func rfc3339(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000Z")
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func dirString(d flow.Direction) string {
	switch d {
	case flow.DirIngress:
		return "ingress"
	case flow.DirEgress:
		return "egress"
	}
	return ""
}

func (rw *recordWriter) csvRow(r *flow.Record) []string {
	u := func(x uint64) string { return strconv.FormatUint(x, 10) }
	return []string{
		addrString(r.SrcAddr), addrString(r.DstAddr), u(uint64(r.SrcPort)), u(uint64(r.DstPort)), u(uint64(r.Proto)),
		u(r.Bytes), u(r.RevBytes), u(r.Packets), u(r.RevPackets), u(uint64(r.TCPFlags)),
		rfc3339(r.Start), rfc3339(r.End), durationSeconds(r), u(uint64(r.ICMPType)), u(uint64(r.ICMPCode)),
		u(uint64(r.InIf)), u(uint64(r.OutIf)), u(uint64(r.SrcAS)), u(uint64(r.DstAS)),
		addrString(r.NextHop), u(uint64(r.VLAN)), addrString(r.Exporter), u(uint64(r.ObsDomain)),
		u(uint64(max(r.SamplingInterval, 1))), rw.hashes[r.SourceID],
		u(r.PostBytes), u(r.PostPackets), dirString(r.Dir), addrString(r.NATSrcAddr), addrString(r.NATDstAddr),
		u(uint64(r.NATSrcPort)), u(uint64(r.NATDstPort)),
	}
}

func durationSeconds(r *flow.Record) string {
	return strconv.FormatFloat(float64(r.End-r.Start)/1e9, 'f', -1, 64)
}

// appendJSON writes one flow as a JSON object with the keys in
// outputFields order; absent addresses are null.
func (rw *recordWriter) appendJSON(b []byte, r *flow.Record) []byte {
	addr := func(b []byte, key string, a netip.Addr, first bool) []byte {
		if !first {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `":`...)
		if !a.IsValid() {
			return append(b, "null"...)
		}
		b = append(b, '"')
		b = a.AppendTo(b)
		return append(b, '"')
	}
	num := func(b []byte, key string, x uint64) []byte {
		b = append(b, `,"`...)
		b = append(b, key...)
		b = append(b, `":`...)
		return strconv.AppendUint(b, x, 10)
	}
	str := func(b []byte, key, s string) []byte {
		b = append(b, `,"`...)
		b = append(b, key...)
		b = append(b, `":"`...)
		b = append(b, s...)
		return append(b, '"')
	}
	b = append(b, '{')
	b = addr(b, "src_ip", r.SrcAddr, true)
	b = addr(b, "dst_ip", r.DstAddr, false)
	b = num(b, "src_port", uint64(r.SrcPort))
	b = num(b, "dst_port", uint64(r.DstPort))
	b = num(b, "protocol", uint64(r.Proto))
	b = num(b, "bytes_in", r.Bytes)
	b = num(b, "bytes_out", r.RevBytes)
	b = num(b, "packets", r.Packets)
	b = num(b, "packets_out", r.RevPackets)
	b = num(b, "tcp_flags", uint64(r.TCPFlags))
	b = str(b, "start", rfc3339(r.Start))
	b = str(b, "end", rfc3339(r.End))
	b = append(b, `,"duration":`...)
	b = append(b, durationSeconds(r)...)
	b = num(b, "icmp_type", uint64(r.ICMPType))
	b = num(b, "icmp_code", uint64(r.ICMPCode))
	b = num(b, "in_if", uint64(r.InIf))
	b = num(b, "out_if", uint64(r.OutIf))
	b = num(b, "src_as", uint64(r.SrcAS))
	b = num(b, "dst_as", uint64(r.DstAS))
	b = addr(b, "next_hop", r.NextHop, false)
	b = num(b, "vlan", uint64(r.VLAN))
	b = addr(b, "exporter", r.Exporter, false)
	b = num(b, "observation_domain", uint64(r.ObsDomain))
	b = num(b, "sampling_interval", uint64(max(r.SamplingInterval, 1)))
	b = str(b, "source", rw.hashes[r.SourceID])
	b = num(b, "post_bytes", r.PostBytes)
	b = num(b, "post_packets", r.PostPackets)
	if d := dirString(r.Dir); d != "" {
		b = str(b, "flow_direction", d)
	} else {
		b = append(b, `,"flow_direction":null`...)
	}
	b = addr(b, "nat_src_ip", r.NATSrcAddr, false)
	b = addr(b, "nat_dst_ip", r.NATDstAddr, false)
	b = num(b, "nat_src_port", uint64(r.NATSrcPort))
	b = num(b, "nat_dst_port", uint64(r.NATDstPort))
	return append(b, '}')
}
