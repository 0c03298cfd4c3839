package jsonflow

import (
	"bytes"
	"strconv"

	"github.com/flowcase/flowcase/internal/flow"
)

// Logs of key=value pairs, one record per line, as FortiGate firewalls
// write their traffic logs (to syslog, FortiAnalyzer or a disk export), and
// Juniper SRX its RT_FLOW session logs in structured-data syslog (RFC 5424:
// the header's timestamp is the session's end; a session's create log is
// not a flow, its close log and a deny log are):
//
//	date=2019-05-10 time=11:37:47 type="traffic" eventtime=1557513467369913239 srcip=10.1.100.11
//	srcport=58012 dstip=23.59.154.35 dstport=80 proto=6 action="close" duration=116 sentbyte=1188 ...
//
// A syslog header before the first pair is passed over. Values may be
// quoted ("..."). The keys are read through the same field table as JSON
// (kvAliases add the vendor's names); eventtime is when the session was
// logged, its end, and the start is that less the duration. Records of
// another type than traffic (utm, event: antivirus, IPS, system events)
// are not flows.
//
// The same reader takes the Common Event Format (CEF: a header of seven
// '|'-separated fields, then pairs whose values may hold spaces; cefPairs)
// and IBM QRadar's LEEF (a header, then pairs separated by a tab or the
// delimiter the header names; leefPairs), each with its own names.

// kvAliases are the key=value logs' names for flow fields. They are looked
// up only in these logs, where "type" and "proto" mean what they say.
var kvAliases = map[string]string{
	// FortiGate
	"srcip": "src_ip", "dstip": "dst_ip", "srcport": "src_port", "dstport": "dst_port", "proto": "protocol",
	"sentbyte": "bytes_in", "rcvdbyte": "bytes_out", "sentpkt": "packets", "rcvdpkt": "packets_out",
	"duration": "duration", "eventtime": "end",
	// Juniper SRX's RT_FLOW session logs in structured-data syslog
	"source-address": "src_ip", "destination-address": "dst_ip", "source-port": "src_port", "destination-port": "dst_port",
	"protocol-id": "protocol", "packets-from-client": "packets", "bytes-from-client": "bytes_in",
	"packets-from-server": "packets_out", "bytes-from-server": "bytes_out", "elapsed-time": "duration",
	"nat-source-address": "nat_src_ip", "nat-source-port": "nat_src_port",
	"nat-destination-address": "nat_dst_ip", "nat-destination-port": "nat_dst_port",
}

// cefAliases are the keys of the Common Event Format's extension (ArcSight
// CEF, as many firewalls and SIEMs export events): in is the bytes from the
// source to the destination, out those back.
var cefAliases = map[string]string{
	"src": "src_ip", "dst": "dst_ip", "spt": "src_port", "dpt": "dst_port", "proto": "protocol",
	"in": "bytes_in", "out": "bytes_out", "start": "start", "end": "end", "rt": "last_seen", // rt: when the device logged it, the end
	"sourceTranslatedAddress": "nat_src_ip", "destinationTranslatedAddress": "nat_dst_ip",
	"sourceTranslatedPort": "nat_src_port", "destinationTranslatedPort": "nat_dst_port",
}

// aliasFields resolves a dialect's aliases to their fields once, so that
// a key costs one lookup.
func aliasFields(aliases map[string]string) map[string]*field {
	m := make(map[string]*field, len(aliases))
	for k, name := range aliases {
		m[k] = fields[name]
	}
	return m
}

var kvFields, cefFields, leefFields = aliasFields(kvAliases), aliasFields(cefAliases), aliasFields(leefAliases)

// leefAliases are the keys of IBM QRadar's Log Event Extended Format:
// srcBytes went from the source, dstBytes back.
var leefAliases = map[string]string{
	"src": "src_ip", "dst": "dst_ip", "srcPort": "src_port", "dstPort": "dst_port", "proto": "protocol",
	"srcBytes": "bytes_in", "dstBytes": "bytes_out", "srcPackets": "packets", "dstPackets": "packets_out",
	"devTime": "last_seen", "srcPostNAT": "nat_src_ip", "dstPostNAT": "nat_dst_ip",
	"srcPostNATPort": "nat_src_port", "dstPostNATPort": "nat_dst_port",
}

// linePairs are a line's key=value pairs and how their keys are read: a
// CEF or LEEF record's extension, else key=value words (plain: FortiGate's
// and Juniper's, whose type, date, time and tz keys are theirs, not CEF's
// or LEEF's). A value, not iterator closures, so that reading a line
// allocates nothing.
type linePairs struct {
	b     []byte // the extension, the attributes or the line
	delim byte   // LEEF's attribute delimiter
	kind  uint8  // pairsPlain, pairsCEF, pairsLEEF
}

const (
	pairsPlain uint8 = iota
	pairsCEF
	pairsLEEF
)

func pairsOf(line []byte) linePairs {
	if ext, ok := cefExtension(line); ok {
		return linePairs{b: ext, kind: pairsCEF}
	}
	if ext, delim, ok := leefAttributes(line); ok {
		return linePairs{b: ext, delim: delim, kind: pairsLEEF}
	}
	return linePairs{b: line}
}

// all yields the pairs.
func (lp linePairs) all(yield func(kvPair) bool) {
	switch lp.kind {
	case pairsCEF:
		cefPairs(lp.b, yield)
	case pairsLEEF:
		leefPairs(lp.b, lp.delim, yield)
	default:
		kvPairs(lp.b, yield)
	}
}

// field returns how a key is read, or nil.
func (lp linePairs) field(key []byte) *field {
	switch lp.kind {
	case pairsCEF:
		return cefFields[string(key)]
	case pairsLEEF:
		return leefFields[string(key)]
	}
	return kvFields[string(key)]
}

// leefAttributes returns the attributes of a LEEF record (after the
// header's fifth '|', or sixth in LEEF 2.0, whose sixth field names the
// delimiter: a character or its hex, "x09" or "^"), the delimiter (a tab
// in LEEF 1.0), and whether line is one.
func leefAttributes(line []byte) ([]byte, byte, bool) {
	i := bytes.Index(line, []byte("LEEF:"))
	if i < 0 {
		return nil, 0, false
	}
	b := line[i:]
	fields := 5
	if bytes.HasPrefix(b, []byte("LEEF:2")) {
		fields = 6
	}
	var last []byte
	for n := 0; n < fields; n++ {
		j := bytes.IndexByte(b, '|')
		if j < 0 {
			return nil, 0, false
		}
		last, b = b[:j], b[j+1:]
	}
	delim := byte('\t')
	if fields == 6 {
		switch {
		case len(last) == 1:
			delim = last[0]
		case len(last) == 3 && (last[0] == 'x' || last[0] == 'X'):
			if n, err := strconv.ParseUint(string(last[1:]), 16, 8); err == nil {
				delim = byte(n)
			}
		case len(last) == 4 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X'):
			if n, err := strconv.ParseUint(string(last[2:]), 16, 8); err == nil {
				delim = byte(n)
			}
		}
	}
	return b, delim, true
}

// leefPairs yields the key=value attributes of a LEEF record.
func leefPairs(attrs []byte, delim byte, yield func(kvPair) bool) {
	for a := range bytes.SplitSeq(attrs, []byte{delim}) {
		k, v, ok := bytes.Cut(bytes.TrimSpace(a), []byte{'='})
		if ok && len(k) > 0 && !yield(kvPair{k, v}) {
			return
		}
	}
}

// cefExtension returns the extension of a CEF record (what follows the
// seventh unescaped '|' after "CEF:"), and whether line is one.
func cefExtension(line []byte) ([]byte, bool) {
	i := bytes.Index(line, []byte("CEF:"))
	if i < 0 {
		return nil, false
	}
	b := line[i:]
	for n := 0; n < 7; n++ {
		j := 0
		for j < len(b) && (b[j] != '|' || (j > 0 && b[j-1] == '\\')) {
			j++
		}
		if j == len(b) {
			return nil, false
		}
		b = b[j+1:]
	}
	return b, true
}

// cefPairs yields the key=value pairs of a CEF extension: a key is letters,
// digits and '_' before '='; a value runs (spaces included) to the space
// before the next key; an escaped '=' (\=) is part of a value.
func cefPairs(ext []byte, yield func(kvPair) bool) {
	b := bytes.TrimLeft(ext, " ")
	for len(b) > 0 {
		eq := bytes.IndexByte(b, '=')
		if eq <= 0 || !cefKey(b[:eq]) {
			return
		}
		k, v := b[:eq], b[eq+1:]
		next := cefValueEnd(v)
		if !yield(kvPair{k, bytes.TrimRight(v[:next], " ")}) {
			return
		}
		b = bytes.TrimLeft(v[next:], " ")
	}
}

// cefValueEnd returns where the value at the start of v ends: at the space
// before the next " key=", or at the end. One pass, whatever the value
// holds: each byte is looked at once.
func cefValueEnd(v []byte) int {
	space, word := -1, false // the last space; whether a key's letters follow it
	for i, c := range v {
		switch {
		case c == ' ':
			space, word = i, false
		case c == '=' && word:
			return space
		case cefKeyByte(c):
			word = space >= 0 && (word || i == space+1)
		default:
			space, word = -1, false // '\\=' and the like: not a key
		}
	}
	return len(v)
}

func cefKey(k []byte) bool {
	for _, c := range k {
		if !cefKeyByte(c) {
			return false
		}
	}
	return len(k) > 0
}

func cefKeyByte(c byte) bool {
	return 'a' <= lower(c) && lower(c) <= 'z' || '0' <= c && c <= '9' || c == '_'
}

// kvLine reports whether line is a key=value record of flow fields: after
// any syslog header, pairs, among them a source and a destination address.
func kvLine(line []byte) bool {
	var src, dst bool
	n := 0
	lp := pairsOf(line)
	for key := range lp.all {
		n++
		if f := lp.field(key.k); f != nil {
			src = src || f.name == "src_ip"
			dst = dst || f.name == "dst_ip"
		}
	}
	return n >= 3 && src && dst
}

type kvPair struct{ k, v []byte }

// kvPairs yields the key=value pairs of line, from the first word that
// holds '=' (what comes before is a syslog header); a quoted value loses
// its quotes.
func kvPairs(line []byte, yield func(kvPair) bool) {
	b := line
	for len(b) > 0 {
		b = bytes.TrimLeft(b, " \t")
		end := bytes.IndexAny(b, " \t")
		if end < 0 {
			end = len(b)
		}
		eq := bytes.IndexByte(b[:end], '=')
		if eq <= 0 {
			b = b[end:] // not a pair: a header word
			continue
		}
		k, v := b[:eq], b[eq+1:]
		if len(v) > 0 && v[0] == '"' {
			q := bytes.IndexByte(v[1:], '"')
			if q < 0 {
				q = len(v) - 1
			}
			b = v[min(q+2, len(v)):]
			v = v[1 : q+1]
		} else {
			end := bytes.IndexAny(v, " \t")
			if end < 0 {
				end = len(v)
			}
			v, b = v[:end], v[end:]
		}
		if !yield(kvPair{k, v}) {
			return
		}
	}
}

// kvLineRecord decodes one key=value line. Without eventtime (FortiOS
// before 6.2), the date and time pairs are the end, in the tz pair's zone
// (else zone-less: --input-tz).
func (d *Reader) kvLineRecord(line []byte, rec *flow.Record, pos int64) bool {
	dec := &d.dec
	dec.reset(rec)
	traffic := true
	var date, clock, tz []byte
	lp := pairsOf(line)
	for p := range lp.all {
		if lp.kind == pairsPlain {
			switch string(p.k) {
			case "type":
				if string(p.v) != "traffic" {
					traffic = false
					dec.notFlow = "fortigate " + string(cut(p.v)) + " log"
				}
			case "date":
				date = p.v
			case "time":
				clock = p.v
			case "tz":
				tz = p.v
			}
		}
		if f := lp.field(p.k); f != nil && dec.reason == "" && traffic {
			dec.apply(f, value{kind: kindString, raw: p.v}, rec)
		}
	}
	if bytes.Contains(line, []byte("RT_FLOW_SESSION_CREATE")) {
		dec.notFlow = "juniper session create log" // its close log is the flow
	}
	if ts := syslogTime(line); dec.slots[slotEnd].kind == kindAbsent && ts != nil {
		dec.slots[slotEnd] = value{kind: kindString, raw: ts}
	}
	if dec.slots[slotEnd].kind == kindAbsent && len(date) > 0 && len(clock) > 0 {
		d.kvTime = append(append(append(append(d.kvTime[:0], date...), 'T'), clock...), tz...)
		dec.slots[slotEnd] = value{kind: kindString, raw: d.kvTime}
	}
	if dec.slots[slotDuration].kind == kindAbsent { // a denied session's log has none
		dec.slots[slotDuration] = zeroDuration
	}
	reason, detail := dec.finish(rec)
	return d.keep(reason, detail, pos)
}

// syslogTime returns the timestamp of an RFC 5424 syslog header ("<PRI>1
// TIMESTAMP HOST ..."), or nil.
func syslogTime(line []byte) []byte {
	if len(line) < 4 || line[0] != '<' {
		return nil
	}
	end := bytes.IndexByte(line, '>')
	if end < 0 || end > 4 || !bytes.HasPrefix(line[end+1:], []byte("1 ")) {
		return nil
	}
	rest := line[end+3:]
	if sp := bytes.IndexByte(rest, ' '); sp > 0 {
		return rest[:sp]
	}
	return nil
}
