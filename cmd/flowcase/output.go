package main

import (
	"io"
	"net/netip"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// recordWriter writes flows as a table, JSON (an array), NDJSON or CSV.
// JSON and CSV times are RFC 3339 UTC with fractional seconds; --tz
// changes only the table. Each row is appended into one reused buffer
// (appendfmt.go) and written with a single Write: no allocation per row.
type recordWriter struct {
	w      io.Writer
	format string
	hash   func(id uint32) string // a source's SHA-256
	tw     *tabwriter.Writer
	times  timeFormatter
	n      int
	// buf collects rows (of every format but the table) up to
	// flushAt bytes, then goes to w in one Write.
	buf []byte
	// The last source looked up with hash (rows come in runs of one
	// source), as is and as a CSV field.
	srcID   uint32
	srcHash string
	srcCSV  []byte
	srcOK   bool
}

const flushAt = 64 << 10

// outputFields are the keys of a flow in JSON, NDJSON and CSV, in order.
// `ingest` reads every one of them back.
var outputFields = []string{
	"src_ip", "dst_ip", "src_port", "dst_port", "protocol", "bytes_in", "bytes_out", "packets", "packets_out",
	"tcp_flags", "start", "end", "duration", "icmp_type", "icmp_code", "in_if", "out_if", "src_as", "dst_as",
	"next_hop", "vlan", "exporter", "observation_domain", "sampling_interval", "source",
	"post_bytes", "post_packets", "flow_direction", "nat_src_ip", "nat_dst_ip", "nat_src_port", "nat_dst_port",
}

// startHeader is a table's START column header: in UTC unless it names
// the zone of --tz, as its times carry no offset.
func startHeader(tz *time.Location) string {
	if tz == nil || tz == time.UTC {
		return "START"
	}
	return "START (" + tz.String() + ")"
}

func newRecordWriter(w io.Writer, format string, tz *time.Location, hash func(id uint32) string) *recordWriter {
	rw := &recordWriter{w: w, format: format, times: timeFormatter{zone: zoneCache{loc: tz}}, hash: hash,
		buf: make([]byte, 0, flushAt+4096)}
	switch format {
	case "table":
		rw.tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		io.WriteString(rw.tw, startHeader(tz)+"\tDURATION\tPROTO\tSRC\tDST\tFLAGS\tPACKETS\tBYTES\tPACKETS_OUT\tBYTES_OUT\n")
	case "csv":
		b := rw.buf[:0]
		for i, f := range outputFields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCSVField(b, f)
		}
		rw.buf = append(b, '\n')
	case "json":
		rw.buf = append(rw.buf, '[')
	}
	return rw
}

func (rw *recordWriter) write(r *flow.Record) {
	if rw.format == "table" {
		rw.writeTable(r)
		rw.n++
		return
	}
	b := rw.buf
	switch rw.format {
	case "csv":
		b = append(rw.appendCSV(b, r), '\n')
	case "json":
		if rw.n > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  "...)
		b = rw.appendJSON(b, r)
	case "ndjson":
		b = append(rw.appendJSON(b, r), '\n')
	}
	rw.buf = b
	if len(b) >= flushAt {
		rw.w.Write(b)
		rw.buf = b[:0]
	}
	rw.n++
}

func (rw *recordWriter) close() {
	switch rw.format {
	case "table":
		rw.tw.Flush()
		return
	case "json":
		if rw.n > 0 {
			rw.buf = append(rw.buf, '\n')
		}
		rw.buf = append(rw.buf, "]\n"...)
	}
	rw.w.Write(rw.buf)
	rw.buf = rw.buf[:0]
}

// source returns the SHA-256 of the record's source ("" when unknown).
func (rw *recordWriter) source(id uint32) string {
	if !rw.srcOK || id != rw.srcID {
		rw.srcID, rw.srcHash, rw.srcOK = id, rw.hash(id), true
		rw.srcCSV = appendCSVField(rw.srcCSV[:0], rw.srcHash)
	}
	return rw.srcHash
}

// protoNames caches flow.ProtoName for every protocol number.
var protoNames = func() (names [256]string) {
	for p := range names {
		names[p] = flow.ProtoName(uint8(p))
	}
	return names
}()

func (rw *recordWriter) writeTable(r *flow.Record) {
	b := rw.times.appendTableTime(rw.buf[:0], r.Start)
	b = append(b, '\t')
	b = append(b, time.Duration(r.End-r.Start).Round(time.Millisecond).String()...)
	b = append(b, '\t')
	b = append(b, protoNames[r.Proto]...)
	b = append(b, '\t')
	b = appendHostPort(b, r.SrcAddr, r.SrcPort)
	b = append(b, '\t')
	b = appendHostPort(b, r.DstAddr, r.DstPort)
	b = append(b, '\t')
	b = appendFlags(b, r.TCPFlags)
	for _, x := range [...]uint64{r.Packets, r.Bytes, r.RevPackets, r.RevBytes} {
		b = append(b, '\t')
		b = strconv.AppendUint(b, x, 10)
	}
	rw.buf = append(b, '\n')
	rw.tw.Write(rw.buf)
	if rw.n%tableBlock == tableBlock-1 {
		rw.tw.Flush()
	}
}

// tableBlock is how many table rows are aligned together: the columns of
// each block are measured on its own rows, so a listing of up to
// tableBlock rows is aligned throughout (at a thousand, the columns of a
// long listing jumped every thousand rows), and a longer one costs at
// most a block of rows in memory (about 5 MB).
const tableBlock = 20000

// appendHostPort writes netip.AddrPortFrom(a, p).String(), or "-" for no
// address.
func appendHostPort(b []byte, a netip.Addr, p uint16) []byte {
	if !a.IsValid() {
		return append(b, '-')
	}
	return netip.AddrPortFrom(a, p).AppendTo(b)
}

// appendFlags writes TCP flags the way nfdump does: CEUAPRSF, a dot for
// each flag not set.
func appendFlags(b []byte, f uint8) []byte {
	const letters = "CEUAPRSF"
	for i := range 8 {
		c := byte('.')
		if f&(0x80>>i) != 0 {
			c = letters[i]
		}
		b = append(b, c)
	}
	return b
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

// appendCSV writes one flow as a CSV line (without the newline), the
// fields in outputFields order, quoted as encoding/csv quotes them.
func (rw *recordWriter) appendCSV(b []byte, r *flow.Record) []byte {
	u := func(b []byte, x uint64) []byte { return append(strconv.AppendUint(b, x, 10), ',') }
	b = append(appendCSVAddr(b, r.SrcAddr), ',')
	b = append(appendCSVAddr(b, r.DstAddr), ',')
	b = u(b, uint64(r.SrcPort))
	b = u(b, uint64(r.DstPort))
	b = u(b, uint64(r.Proto))
	b = u(b, r.Bytes)
	b = u(b, r.RevBytes)
	b = u(b, r.Packets)
	b = u(b, r.RevPackets)
	b = u(b, uint64(r.TCPFlags))
	b = append(rw.times.appendRFC3339(b, r.Start), ',')
	b = append(rw.times.appendRFC3339(b, r.End), ',')
	b = append(appendSeconds(b, r.End-r.Start), ',')
	b = u(b, uint64(r.ICMPType))
	b = u(b, uint64(r.ICMPCode))
	b = u(b, uint64(r.InIf))
	b = u(b, uint64(r.OutIf))
	b = u(b, uint64(r.SrcAS))
	b = u(b, uint64(r.DstAS))
	b = append(appendCSVAddr(b, r.NextHop), ',')
	b = u(b, uint64(r.VLAN))
	b = append(appendCSVAddr(b, r.Exporter), ',')
	b = u(b, uint64(r.ObsDomain))
	b = u(b, uint64(max(r.SamplingInterval, 1)))
	rw.source(r.SourceID)
	b = append(append(b, rw.srcCSV...), ',')
	b = u(b, r.PostBytes)
	b = u(b, r.PostPackets)
	b = append(append(b, dirString(r.Dir)...), ',')
	b = append(appendCSVAddr(b, r.NATSrcAddr), ',')
	b = append(appendCSVAddr(b, r.NATDstAddr), ',')
	b = u(b, uint64(r.NATSrcPort))
	return strconv.AppendUint(b, uint64(r.NATDstPort), 10)
}

// appendJSON writes one flow as a JSON object with the keys in
// outputFields order; absent addresses are null. Strings are written
// unescaped: addresses, times, directions and source hashes need no
// escapes.
func (rw *recordWriter) appendJSON(b []byte, r *flow.Record) []byte {
	addr := func(b []byte, key string, a netip.Addr) []byte {
		b = append(b, key...)
		if !a.IsValid() {
			return append(b, "null"...)
		}
		b = append(b, '"')
		b = appendAddr(b, a)
		return append(b, '"')
	}
	num := func(b []byte, key string, x uint64) []byte {
		return strconv.AppendUint(append(b, key...), x, 10)
	}
	b = addr(b, `{"src_ip":`, r.SrcAddr)
	b = addr(b, `,"dst_ip":`, r.DstAddr)
	b = num(b, `,"src_port":`, uint64(r.SrcPort))
	b = num(b, `,"dst_port":`, uint64(r.DstPort))
	b = num(b, `,"protocol":`, uint64(r.Proto))
	b = num(b, `,"bytes_in":`, r.Bytes)
	b = num(b, `,"bytes_out":`, r.RevBytes)
	b = num(b, `,"packets":`, r.Packets)
	b = num(b, `,"packets_out":`, r.RevPackets)
	b = num(b, `,"tcp_flags":`, uint64(r.TCPFlags))
	b = rw.times.appendRFC3339(append(b, `,"start":"`...), r.Start)
	b = rw.times.appendRFC3339(append(b, `","end":"`...), r.End)
	b = appendSeconds(append(b, `","duration":`...), r.End-r.Start)
	b = num(b, `,"icmp_type":`, uint64(r.ICMPType))
	b = num(b, `,"icmp_code":`, uint64(r.ICMPCode))
	b = num(b, `,"in_if":`, uint64(r.InIf))
	b = num(b, `,"out_if":`, uint64(r.OutIf))
	b = num(b, `,"src_as":`, uint64(r.SrcAS))
	b = num(b, `,"dst_as":`, uint64(r.DstAS))
	b = addr(b, `,"next_hop":`, r.NextHop)
	b = num(b, `,"vlan":`, uint64(r.VLAN))
	b = addr(b, `,"exporter":`, r.Exporter)
	b = num(b, `,"observation_domain":`, uint64(r.ObsDomain))
	b = num(b, `,"sampling_interval":`, uint64(max(r.SamplingInterval, 1)))
	b = append(append(b, `,"source":"`...), rw.source(r.SourceID)...)
	b = num(b, `","post_bytes":`, r.PostBytes)
	b = num(b, `,"post_packets":`, r.PostPackets)
	if d := dirString(r.Dir); d != "" {
		b = append(append(append(b, `,"flow_direction":"`...), d...), '"')
	} else {
		b = append(b, `,"flow_direction":null`...)
	}
	b = addr(b, `,"nat_src_ip":`, r.NATSrcAddr)
	b = addr(b, `,"nat_dst_ip":`, r.NATDstAddr)
	b = num(b, `,"nat_src_port":`, uint64(r.NATSrcPort))
	b = num(b, `,"nat_dst_port":`, uint64(r.NATDstPort))
	return append(b, '}')
}
