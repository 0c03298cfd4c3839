package jsonflow

import (
	"bytes"

	"github.com/flowcase/flowcase/internal/flow"
)

// The W3C extended log format as Windows Defender Firewall writes
// pfirewall.log: '#' directives, then one connection or dropped packet a
// line, its fields separated by spaces, "-" for none:
//
//	#Version: 1.5
//	#Software: Microsoft Windows Firewall
//	#Time Format: Local
//	#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path pid
//
//	2023-05-01 12:00:00 ALLOW TCP 10.0.0.5 93.184.216.34 51234 443 0 - 0 0 0 - - - SEND 1234
//	2023-05-01 12:00:05 DROP TCP 198.51.100.66 10.0.0.5 40000 3389 52 S 123456 0 8192 - - - RECEIVE
//
// date and time (local, unless the header says UTC; else --input-tz) are
// the record's time; size is the dropped packet's bytes (0 for an allowed
// connection). A DROP has no answer, so the detectors count a blocked
// attempt as failed.

const w3cMagic = "#Version:"

// w3cNames are the firewall log's field names for flow fields; date and
// time are joined (decoder.w3cTime).
var w3cNames = map[string]string{
	"src-ip": "src_ip", "dst-ip": "dst_ip", "src-port": "src_port", "dst-port": "dst_port", "protocol": "protocol",
	"size": "bytes_in", "tcpflags": "tcp_flags", "icmptype": "icmp_type", "icmpcode": "icmp_code",
}

var (
	w3cDate  = field{name: "date", kind: fieldW3CDate}
	w3cClock = field{name: "time", kind: fieldW3CClock}
)

// w3cStart checks that the input starts with a W3C #Version directive.
func (d *Reader) w3cStart() bool {
	head, _ := d.br.Peek(len(w3cMagic))
	if string(head) != w3cMagic {
		return false
	}
	d.format = FormatW3C
	d.cols = columns{sep: ' ', unset: []byte("-"), w3c: true}
	return true
}

// w3cDirective reads a header line: the field names, and whether times
// are UTC.
func (z *columns) w3cDirective(line []byte) {
	name, value, _ := bytes.Cut(line, []byte{':'})
	value = bytes.TrimSpace(value)
	switch string(name) {
	case "#Fields":
		z.fields = true
		z.cols = z.cols[:0]
		for col := range bytes.FieldsSeq(value) {
			var f *field
			switch string(col) {
			case "date":
				f = &w3cDate
			case "time":
				f = &w3cClock
			default:
				f = fields[w3cNames[string(col)]]
			}
			z.cols = append(z.cols, f)
		}
	case "#Time Format":
		z.utc = bytes.EqualFold(value, []byte("UTC"))
	}
}

// w3cFinish joins the record's date and time into its start (and end);
// a record with a size is one packet (a dropped one).
func (d *decoder) w3cFinish(rec *flow.Record, utc bool) {
	if rec.Bytes > 0 && rec.Packets == 0 {
		rec.Packets = 1
	}
	if len(d.date) == 0 || len(d.clock) == 0 {
		return
	}
	d.timeBuf = append(append(append(d.timeBuf[:0], d.date...), 'T'), d.clock...)
	if utc {
		d.timeBuf = append(d.timeBuf, 'Z')
	}
	d.slots[slotStart] = value{kind: kindString, raw: d.timeBuf}
}
