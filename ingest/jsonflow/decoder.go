package jsonflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// decoder turns one JSON object into a flow.Record. It is a pure function
// of the object's bytes and its settings; it keeps buffers between calls
// so that a good record costs no allocation.
type decoder struct {
	tz     *time.Location
	assume int64 // unix ns start for records without a time; 0 = reject
	latest int64 // unix ns: later times are "in the future"

	slots   [numSlots]value
	reason  string // first reason to reject the record, "" if none
	detail  string
	assumed bool // the record took assume
	swapped bool // its start and end were given the wrong way round (times)
	icmpSet bool // an ICMP type or code field was read
	// ignored lists the optional fields whose values could not be read
	// (optionalFields): passed over, the record kept.
	ignored []string
	noICMP  bool // the record comes from a tool whose ICMP records carry no type (untypedICMPKeys)
	// suricata: the record names its destination as Suricata does
	// (dest_ip); eventNotFlow: its event_type is one of Suricata's that
	// are not flows.
	suricata     bool
	eventNotFlow string
	bytesIn      bool   // a bytes_in field was read (Argus: SrcBytes)
	ipipName     bool   // the protocol was named "ipip": 4 (IP-in-IP) to most, 94 to Argus (finish)
	untyped      bool   // an ICMP record without any type, read as an echo request (finish)
	text         []byte // unescaped string scratch
	key          []byte // unescaped key scratch
	path         []byte // "outer.inner." while reading the members of nested objects
	pathKey      []byte // path and key joined
	history      uint8  // TCP flags from a Zeek history or an Argus state, applied to TCP records without tcp_flags
	zeek         bool   // the record has Zeek's conn.log ports
	splunk       bool   // the record has Splunk's _time: its counters are the CIM's (finish)
	onlyB        uint64 // OCSF's traffic.bytes: used when nothing else counts bytes
	onlyP        uint64 // and traffic.packets
	argus        bool   // the record has Argus's fields
	totB         uint64 // Argus's TotBytes and TotPkts (argus)
	totP         uint64
	notFlow      string // Suricata's event_type, when it is not a flow
	zeekLog      string // Zeek's _path
	zeekUID      bool   // a Zeek record (uid) ...
	zeekCS       bool   // ... with conn.log's conn_state
	date         []byte // a W3C log's date and time (w3c.go), valid during the record
	clock        []byte
	timeBuf      []byte // date and time joined
}

// maxObjectNesting is how deep nested objects are read (as dotted names);
// deeper ones are skipped.
const maxObjectNesting = 3

// decode fills rec from the JSON object in b; it returns the reason and a
// detail when the record is rejected, "" when rec is good.
func (d *decoder) decode(b []byte, rec *flow.Record) (reason, detail string) {
	d.reset(rec)
	s := scanner{b: b}
	d.object(&s, rec)
	if s.err != "" {
		return syntaxReason(b, s.err)
	}
	return d.finish(rec)
}

// reset starts a record.
func (d *decoder) reset(rec *flow.Record) {
	*rec = flow.Record{SamplingInterval: 1}
	d.slots = [numSlots]value{}
	d.reason, d.detail, d.assumed, d.swapped, d.history, d.zeek = "", "", false, false, 0, false
	d.icmpSet, d.noICMP, d.untyped, d.ignored = false, false, false, d.ignored[:0]
	d.suricata, d.eventNotFlow, d.bytesIn, d.ipipName = false, "", false, false
	d.argus, d.totB, d.totP, d.notFlow, d.splunk, d.onlyB, d.onlyP = false, 0, 0, "", false, 0, 0
	d.zeekLog, d.zeekUID, d.zeekCS = "", false, false
	d.date, d.clock = nil, nil
}

// finish checks a record whose fields are applied and resolves what
// depends on several of them: ICMP type and code, flags, times.
func (d *decoder) finish(rec *flow.Record) (reason, detail string) {
	switch {
	case d.notFlow != "":
		return ReasonNotFlow, d.notFlow
	// Suricata's and Zeek's other records, when the record is theirs (their
	// names for the addresses, or none): a record of the seed's names with
	// an "event_type" or a "uid" of its own is a flow.
	case d.eventNotFlow != "" && (d.suricata || !rec.SrcAddr.IsValid()):
		return ReasonNotFlow, d.eventNotFlow
	case d.zeekLog != "" && d.zeekLog != "conn":
		return ReasonNotFlow, "zeek " + d.zeekLog + ".log record"
	case d.zeekUID && !d.zeekCS && d.zeekLog == "" && (d.zeek || !rec.SrcAddr.IsValid()):
		return ReasonNotFlow, "zeek record without conn_state (not conn.log)"
	case d.reason != "":
		return d.reason, d.detail
	case !rec.SrcAddr.IsValid():
		return ReasonMissingAddr, "no src_ip"
	case !rec.DstAddr.IsValid():
		return ReasonMissingAddr, "no dst_ip"
	}
	if rec.Bytes == 0 && rec.RevBytes == 0 {
		rec.Bytes = d.onlyB // OCSF's total alone: one direction a record
	}
	if rec.Packets == 0 && rec.RevPackets == 0 {
		rec.Packets = d.onlyP
	}
	if d.splunk && (rec.RevBytes > 0 || rec.RevPackets > 0) {
		// Splunk's Common Information Model (and OCSF) count bytes_in and
		// packets_in from the destination to the source, and bytes_out
		// from the source (the Palo Alto and FortiGate add-ons map their
		// received bytes to bytes_in): the reverse of the seed's names.
		rec.Bytes, rec.RevBytes = rec.RevBytes, rec.Bytes
		rec.Packets, rec.RevPackets = rec.RevPackets, rec.Packets
	}
	if d.argus && d.ipipName {
		rec.Proto = argusProtos["ipip"] // Argus's "ipip" is IANA's IPIP, 94; IP-in-IP is its "ipnip"
	}
	if d.argus {
		// Argus counts both directions together: the reverse bytes are
		// what SrcBytes leaves of TotBytes; the packets cannot be split
		// and count as forward.
		switch {
		case !d.bytesIn && rec.Bytes == 0 && rec.RevBytes == 0:
			rec.Bytes = d.totB // no SrcBytes column: both ways, forward, as the packets
		case d.totB >= rec.Bytes && rec.RevBytes == 0:
			rec.RevBytes = d.totB - rec.Bytes
		}
		if rec.Packets == 0 && rec.RevPackets == 0 {
			rec.Packets = d.totP
		}
	}
	if d.zeek && rec.Proto == flow.ProtoICMP && rec.SrcAddr.Is6() && rec.DstAddr.Is6() {
		rec.Proto = flow.ProtoICMPv6 // Zeek writes "icmp" for ICMPv6 too
	}
	if flow.IsICMP(rec.Proto) && rec.ICMPType == 0 && rec.ICMPCode == 0 {
		// Without ICMP fields, the type and code are in the ports, as each
		// source puts them there.
		switch {
		case d.zeek: // the type as the originator's port, the code as the responder's
			rec.ICMPType, rec.ICMPCode = uint8(rec.SrcPort), uint8(rec.DstPort)
		case d.argus: // the type as the source port
			rec.ICMPType = uint8(rec.SrcPort)
		case rec.DstPort != 0:
			// NetFlow v5 (type<<8 | code in the destination port);
			// collectors that pass it through (goflow2) write icmp_type
			// and icmp_code 0 beside it.
			rec.ICMPFromPort()
		case d.noICMP && !d.icmpSet && rec.SrcPort == 0:
			// A tool that writes no ICMP type (AWS and Google Cloud VPC
			// Flow Logs, CICFlowMeter): an echo request, as pings are most
			// ICMP flows (and the Cisco ASA reader reads its messages
			// without a type so). Left at 0, an echo reply, its source
			// would be the answering side, and a ping sweep the swept
			// hosts' replies. Counted for a note. (Elsewhere ports of 0
			// are a type 0: nfdump's CSV writes an echo reply so.)
			rec.ICMPType, d.untyped = flow.ICMPEchoRequest, true
			if rec.Proto == flow.ProtoICMPv6 {
				rec.ICMPType = flow.ICMPv6EchoRequest
			}
		}
	}
	if d.history != 0 && rec.Proto == flow.ProtoTCP && rec.TCPFlags == 0 {
		rec.TCPFlags = d.history
	}
	d.times(rec)
	return d.reason, d.detail
}

// syntaxReason tells a JSON value that is not an object from bad JSON.
func syntaxReason(b []byte, err string) (string, string) {
	t := trimSpace(b)
	if len(t) > 0 && t[0] != '{' && json.Valid(t) {
		return ReasonNotObject, "a JSON value that is not an object: " + show(t)
	}
	return ReasonMalformed, err
}

// object scans the whole object, applying each member.
func (d *decoder) object(s *scanner, rec *flow.Record) {
	s.skipSpace()
	if !s.expect('{') {
		return
	}
	s.skipSpace()
	if s.peek() == '}' {
		s.i++
	} else {
		d.members(s, rec)
	}
	s.skipSpace()
	if s.err == "" && s.i < len(s.b) {
		s.fail("data after the object")
	}
}

func (d *decoder) members(s *scanner, rec *flow.Record) {
	for s.err == "" {
		if s.peek() != '"' {
			s.unexpected()
			return
		}
		key, esc, ok := s.str()
		s.skipSpace()
		if !ok || !s.expect(':') {
			return
		}
		s.skipSpace()
		v := s.value()
		if s.err != "" {
			return
		}
		d.member(key, esc, v, rec)
		s.skipSpace()
		if s.peek() == '}' {
			s.i++
			return
		}
		if s.expect(',') {
			s.skipSpace()
		}
	}
}

// member applies one key and value, unless the record is already rejected
// or the value is null (the same as absent).
func (d *decoder) member(key []byte, esc bool, v value, rec *flow.Record) {
	if d.reason != "" || v.kind == kindNull {
		return
	}
	if esc {
		d.key = appendUnescaped(d.key[:0], key)
		key = d.key
	}
	name := key
	if len(d.path) > 0 {
		d.pathKey = append(append(d.pathKey[:0], d.path...), key...)
		name = d.pathKey
	}
	f, ok := fields[string(name)]
	switch {
	case ok && f.kind != fieldIgnore:
		d.apply(f, v, rec) // an object where a value belongs is rejected there
	case v.kind == kindNested && v.raw[0] == '{':
		d.nestedObject(key, v.raw, rec)
	}
}

// nestedObject reads the members of an object value under dotted names
// ("source": {"ip": ...} is "source.ip"), as the Elastic Common Schema and
// Logstash's netflow codec nest them.
func (d *decoder) nestedObject(key, raw []byte, rec *flow.Record) {
	n := len(d.path)
	if bytes.Count(d.path, []byte{'.'}) >= maxObjectNesting {
		return
	}
	if n > 0 || string(key) != "_source" {
		// An Elasticsearch hit's document is its _source: its members keep
		// their own names.
		d.path = append(append(d.path, key...), '.')
	}
	s := scanner{b: raw, i: 1} // after '{'; the value is valid JSON (scanner.nested)
	s.skipSpace()
	if s.peek() != '}' {
		d.members(&s, rec)
	}
	d.path = d.path[:n]
}

func (d *decoder) apply(f *field, v value, rec *flow.Record) {
	d.argus = d.argus || f.argus
	switch f.kind {
	case fieldAddr:
		d.noICMP = d.noICMP || f.noICMP
		d.suricata = d.suricata || f.suricata
		// An empty address is absent, and an unspecified one (0.0.0.0, ::)
		// does not replace one that is set: nProbe writes both IPV4_ and
		// IPV6_ columns, the unused one zero, and either may come first.
		// Beyond the source and destination (0.0.0.0 is a DHCP client's),
		// an unspecified address means none (no NAT, no next hop).
		a, p := d.addr(f.name, v), f.addr(rec)
		if a.IsUnspecified() && f.name != "src_ip" && f.name != "dst_ip" {
			break
		}
		if a.IsValid() && (!a.IsUnspecified() || !p.IsValid()) {
			*p = a
		}
	case fieldPort:
		d.port(f, v, rec)
		d.zeek = d.zeek || f.zeek
	case fieldCount:
		d.count(f, v, rec)
	case fieldProto:
		d.proto(v, rec)
	case fieldFlags:
		d.flags(v, rec)
	case fieldDir:
		d.direction(v, rec)
	case fieldTime:
		d.slots[f.slot] = v
		d.splunk = d.splunk || f.splunk
	case fieldHistory:
		if v.kind == kindString {
			d.history = historyFlags(d.str(v))
		}
	case fieldArgusState:
		d.argus = true
		if v.kind == kindString {
			d.history = argusStateFlags(d.str(v))
		}
	case fieldTotalOnly:
		if n, ok := d.whole(f, v); ok && f.max == 1 {
			d.onlyP = n
		} else if ok {
			d.onlyB = n
		}
	case fieldTotalBytes, fieldTotalPackets:
		d.argus = true
		if n, ok := d.whole(f, v); ok && f.kind == fieldTotalBytes {
			d.totB = n
		} else if ok {
			d.totP = n
		}
	case fieldHexFlags, fieldFlagBits:
		// One side's flags, or both sides' in hex: ORed into the
		// record's flags when it has no tcp_flags.
		b, ok := d.number(v)
		parse := parseUint
		if f.kind == fieldHexFlags {
			parse = parseHex
		}
		n, st := parse(b, maxFlags)
		if !ok || st != numOK {
			d.reject(ReasonBadFlags, f.name, v)
		}
		d.history |= uint8(n)
	case fieldEventType:
		if t := d.str(v); v.kind == kindString && suricataNotFlows[string(t)] {
			d.eventNotFlow = "suricata " + string(t) + " event" // if the record is Suricata's (finish)
		}
	case fieldLogStatus:
		if t := d.str(v); v.kind == kindString && len(t) > 0 && !bytes.Equal(t, []byte("OK")) {
			d.notFlow = "vpc flow log " + strings.ToLower(string(cut(t))) + " record"
		}
	case fieldW3CDate:
		d.date = v.raw
	case fieldW3CClock:
		d.clock = v.raw
	case fieldZeekUID:
		d.zeekUID = true
	case fieldZeekConnState:
		d.zeekCS = true
	case fieldZeekPath:
		if v.kind == kindString {
			d.zeekLog = string(cut(d.str(v)))
		}
	case fieldFlagCount:
		if n, ok := d.whole(f, v); ok && n > 0 {
			d.history |= uint8(f.max)
		}
	}
}

// reject keeps the first reason to reject the record.
func (d *decoder) reject(reason, name string, v value) {
	if optionalFields[name] {
		d.ignored = append(d.ignored, name)
		return
	}
	if d.reason == "" {
		d.reason, d.detail = reason, name+" "+showValue(v)
	}
}

// optionalFields are the fields a record stays a flow without: a value of
// one that cannot be read is passed over (and counted: Reader.Ignored), as
// the seed ignores what it does not use, and as other tools' columns of
// the same names hold other things (an interface name in "in", a word in
// "icmp_type"). The addresses, ports, protocol, byte counters, sampling
// interval (bytes are estimated with it) and times are the flow: a value
// of one that cannot be read rejects the record.
var optionalFields = map[string]bool{
	"packets": true, "packets_out": true, "post_bytes": true, "post_packets": true,
	"tcp_flags": true, "flow_direction": true, "icmp_type": true, "icmp_code": true,
	"in_if": true, "out_if": true, "src_as": true, "dst_as": true, "vlan": true,
	"observation_domain": true,
	"next_hop":           true, "exporter": true, "nat_src_ip": true, "nat_dst_ip": true, "nat_src_port": true, "nat_dst_port": true,
}

// str returns the contents of a string value, unescaped; valid until the
// next call.
func (d *decoder) str(v value) []byte {
	if !v.esc {
		return v.raw
	}
	d.text = appendUnescaped(d.text[:0], v.raw)
	return d.text
}

// number returns the text of a number or numeric string.
func (d *decoder) number(v value) ([]byte, bool) {
	switch v.kind {
	case kindNumber:
		return v.raw, true
	case kindString:
		return trimSpace(d.str(v)), true
	}
	return nil, false
}

func (d *decoder) addr(name string, v value) netip.Addr {
	if v.kind == kindNumber {
		// An IPv4 address as its 32-bit number, as some exports write it.
		n, st := parseUint(v.raw, math.MaxUint32)
		if st != numOK {
			d.reject(ReasonBadAddr, name, v)
			return netip.Addr{}
		}
		return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	}
	if v.kind != kindString {
		d.reject(ReasonBadAddr, name, v)
		return netip.Addr{}
	}
	b := d.str(v)
	if len(b) == 0 {
		return netip.Addr{} // the same as absent
	}
	a, ok := parseAddr(b)
	if !ok {
		if n, st := parseUint(b, math.MaxUint32); st == numOK && len(b) <= 10 && n >= 1<<24 {
			// The 32-bit number in a string ("167772161"); not a small
			// number, which is a port or a count in the wrong column.
			return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		}
		if a, ok = lenientAddr(b); !ok {
			d.reject(ReasonBadAddr, name, v)
		}
	}
	return a.Unmap() // ::ffff:10.0.0.1 is the IPv4 host 10.0.0.1, as filters read it
}

// whole reads a whole number of any size, or rejects the record.
func (d *decoder) whole(f *field, v value) (uint64, bool) {
	b, ok := d.number(v)
	n, st := parseUint(b, math.MaxUint64)
	if !ok || st != numOK {
		d.reject(ReasonBadNumber, f.name, v)
		return 0, false
	}
	return n, true
}

func (d *decoder) port(f *field, v value, rec *flow.Record) {
	b, ok := d.number(v)
	if ok && v.kind == kindString && (len(b) == 0 || len(b) == 1 && b[0] == '-') {
		return // "" or "-" (UNSW-NB15, Zeek): the same as absent
	}
	var n uint64
	var st numStatus
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		n, st = parseHex(b[2:], f.max) // Argus writes ICMP "ports" in hex
	} else {
		n, st = parseUint(b, f.max)
	}
	switch {
	case !ok || st == numBad:
		d.reject(ReasonBadNumber, f.name, v)
	case st == numRange:
		d.reject(ReasonPortRange, f.name, v)
	default:
		f.set(rec, n)
		d.icmpSet = d.icmpSet || f.icmp
	}
}

func (d *decoder) count(f *field, v value, rec *flow.Record) {
	b, ok := d.number(v)
	if ok && v.kind == kindString && (len(b) == 0 || len(b) == 1 && b[0] == '-') {
		return // "" or "-": the same as absent
	}
	d.bytesIn = d.bytesIn || f.name == "bytes_in"
	n, st := parseUint(b, f.max)
	if st == numBad && ok {
		n, st = parseFloor(b, f.max) // 100.5, 1.2e3: averaged or scaled counters
	}
	switch {
	case !ok || st == numBad:
		d.reject(ReasonBadNumber, f.name, v)
	case st == numRange:
		d.reject(ReasonNumberRange, f.name, v)
	default:
		f.set(rec, n)
		d.icmpSet = d.icmpSet || f.icmp
	}
}

func (d *decoder) proto(v value, rec *flow.Record) {
	var ok bool
	switch v.kind {
	case kindNumber:
		n, st := parseUint(v.raw, math.MaxUint8)
		rec.Proto, ok = uint8(n), st == numOK
	case kindString:
		name := d.str(v)
		if rec.Proto, ok = parseProto(name); !ok {
			rec.Proto, ok = argusProtos[strings.ToLower(string(trimSpace(name)))] // Argus's own names
		}
		d.ipipName = ok && bytes.EqualFold(trimSpace(name), []byte("ipip"))
	}
	if !ok {
		d.reject(ReasonBadProto, "protocol", v)
	}
}

func (d *decoder) flags(v value, rec *flow.Record) {
	var ok bool
	switch v.kind {
	case kindNumber:
		n, st := parseUint(v.raw, maxFlags)
		rec.TCPFlags, ok = uint8(n), st == numOK
	case kindString:
		rec.TCPFlags, ok = parseFlagsText(d.str(v))
	}
	if !ok {
		d.reject(ReasonBadFlags, "tcp_flags", v)
	}
}

func (d *decoder) direction(v value, rec *flow.Record) {
	var ok bool
	switch v.kind {
	case kindNumber, kindString:
		rec.Dir, ok = parseDirectionText(d.str(v))
	}
	if !ok {
		d.reject(ReasonBadDirection, "flow_direction", v)
	}
}

// showValue writes a value for a reject's detail, cut to a readable length.
func showValue(v value) string {
	switch v.kind {
	case kindString:
		return strconv.Quote(string(cut(v.raw)))
	case kindAbsent:
		return "(absent)"
	}
	return show(v.raw)
}

func show(b []byte) string { return string(cut(b)) }

// cut shortens b to at most 64 bytes, marking the cut.
func cut(b []byte) []byte {
	const n = 64
	if len(b) <= n {
		return b
	}
	return append(b[:n:n], "..."...)
}

// detailf is fmt.Sprintf, for the reject paths only.
func detailf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
