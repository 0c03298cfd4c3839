package jsonflow

import (
	"bytes"
	"net/netip"
	"strconv"

	"github.com/flowcase/flowcase/internal/flow"
)

// Cisco ASA (and Firepower Threat Defense) syslog, one message a line, as
// the firewall sends it to a syslog server:
//
//	May 01 2023 12:00:40: %ASA-6-302013: Built outbound TCP connection 3204 for outside:93.184.216.34/443 (93.184.216.34/443) to inside:10.0.0.5/51234 (203.0.113.5/51234)
//	May 01 2023 12:01:45: %ASA-6-302014: Teardown TCP connection 3204 for outside:93.184.216.34/443 to inside:10.0.0.5/51234 duration 0:01:05 bytes 12345 TCP FINs
//	May 01 2023 12:02:00: %ASA-4-106023: Deny tcp src outside:198.51.100.66/40000 dst inside:10.0.0.5/3389 by access-group "outside_in" [0x0, 0x0]
//
// Connections: a built message (302013, 302015 UDP, 302020 ICMP) is a
// record without bytes at its time, the teardown (302014, 302016, 302021) a
// record from its time
// less the duration, with the bytes both ways together (the ASA does not
// split them; they count as forward). The detectors join them into one
// connection, as they join NSEL's events. The initiator is the "for" side
// of an inbound connection and the "to" side of an outbound one; a
// teardown whose built message is not in the file takes the side whose
// port is the higher as the initiator. Denied attempts (106001, 106015,
// 106023, 710003) are records without bytes, so a blocked scan counts as
// failed. Other messages are not flows. The time is the message's (ASA's
// "logging timestamp", with the year) or an RFC 5424 header's; a BSD
// syslog time has no year and is not enough.

// asaMaxConns bounds the connections remembered between their built and
// teardown messages.
const asaMaxConns = 1 << 20

// asaLine reports whether line is an ASA or FTD syslog message.
func asaLine(line []byte) bool {
	_, _, ok := asaMessage(line)
	return ok
}

// asaMessage returns the message id and text of an ASA or FTD line.
func asaMessage(line []byte) (id int, text []byte, ok bool) {
	i := bytes.Index(line, []byte("%ASA-"))
	if i < 0 {
		if i = bytes.Index(line, []byte("%FTD-")); i < 0 {
			return 0, nil, false
		}
	}
	b := line[i+5:] // "6-302013: ..."
	if len(b) < 10 || b[1] != '-' || b[8] != ':' {
		return 0, nil, false
	}
	id, err := strconv.Atoi(string(b[2:8]))
	if err != nil {
		return 0, nil, false
	}
	return id, bytes.TrimSpace(b[9:]), true
}

// asaTime returns the message's time: an RFC 5424 header's, else a
// "MMM dd yyyy HH:MM:SS" before the message.
func asaTime(line []byte) []byte {
	if ts := syslogTime(line); ts != nil {
		return ts
	}
	i := bytes.Index(line, []byte("%ASA-"))
	if i < 0 {
		i = bytes.Index(line, []byte("%FTD-"))
	}
	head := line[:max(i, 0)]
	for j := 0; j+20 <= len(head); j++ { // "May 01 2023 12:00:40": 20 bytes
		if c := lower(head[j]); 'a' <= c && c <= 'z' && (j == 0 || head[j-1] == ' ' || head[j-1] == '>') {
			if _, r := parseMonthName(head[j:j+20], nil, 1<<62); r == ReasonNoZone {
				return head[j : j+20]
			}
		}
	}
	return nil
}

// asaEndpoint parses "ifc:addr/port" (the interface is optional).
func asaEndpoint(b []byte) (netip.Addr, uint16, bool) {
	b = asaIface(b)
	slash := bytes.LastIndexByte(b, '/')
	if slash < 0 {
		return netip.Addr{}, 0, false
	}
	a, ok := parseAddr(b[:slash])
	p, err := strconv.ParseUint(string(b[slash+1:]), 10, 16)
	if !ok || err != nil {
		return netip.Addr{}, 0, false
	}
	return a.Unmap(), uint16(p), true
}

// asaHost reads an ICMP endpoint, [IFACE:]ADDR: ICMP has no ports.
func asaHost(b []byte) (netip.Addr, bool) {
	a, ok := parseAddr(asaIface(b))
	return a.Unmap(), ok
}

// asaIface returns b without the interface name before its address
// (outside:10.0.0.5/443), if it has one.
func asaIface(b []byte) []byte {
	if c := bytes.IndexByte(b, ':'); c >= 0 && bytes.IndexByte(b[:c], '.') < 0 && !isHexAddr(b[:c]) {
		return b[c+1:]
	}
	return b
}

// asaICMP reads an ICMP message's "type T code C", or "(type T, code C)",
// among words into rec, and reports whether it gave a type.
func asaICMP(words [][]byte, rec *flow.Record) (typed bool) {
	for i := 0; i+1 < len(words); i++ {
		n, err := strconv.ParseUint(string(bytes.TrimRight(words[i+1], ",)")), 10, 8)
		if err != nil {
			continue
		}
		switch string(bytes.TrimLeft(words[i], "(")) {
		case "type":
			rec.ICMPType, typed = uint8(n), true
		case "code":
			rec.ICMPCode = uint8(n)
		}
	}
	return typed
}

// isHexAddr reports whether b could begin an IPv6 address (so the ':' after
// it is the address's, not an interface's).
func isHexAddr(b []byte) bool {
	if len(b) > 4 {
		return false
	}
	for _, c := range b {
		if !isDigit(c) && !('a' <= lower(c) && lower(c) <= 'f') {
			return false
		}
	}
	return true
}

// asaLineRecord decodes one ASA line.
func (d *Reader) asaLineRecord(line []byte, rec *flow.Record, pos int64) bool {
	dec := &d.dec
	dec.reset(rec)
	id, text, ok := asaMessage(line)
	d.words = appendFields(d.words[:0], text)
	words := d.words
	word := func(i int) []byte {
		if i < len(words) {
			return words[i]
		}
		return nil
	}
	proto := func(b []byte) bool {
		p, ok := parseProto(b)
		rec.Proto = p
		return ok
	}
	var a, b netip.Addr
	var pa, pb uint16
	var ok1, ok2 bool
	initiatorFirst := true
	switch {
	case !ok:
		dec.reason, dec.detail = ReasonMalformed, "not an ASA message"
	case id == 302013 || id == 302015: // Built {inbound|outbound} TCP connection ID for A (A') to B (B')
		ok = proto(word(2)) && bytes.Equal(word(5), []byte("for")) && bytes.Equal(word(7), []byte("to")) ||
			proto(word(2)) && bytes.Equal(word(5), []byte("for")) && bytes.Equal(word(8), []byte("to"))
		to := 7
		if !bytes.Equal(word(7), []byte("to")) {
			to = 8
		}
		a, pa, ok1 = asaEndpoint(word(6))
		b, pb, ok2 = asaEndpoint(word(to + 1))
		initiatorFirst = bytes.Equal(word(1), []byte("inbound"))
		if ok && ok1 && ok2 {
			d.asaConn(string(word(4)), initiatorFirst)
		}
	case id == 302014 || id == 302016: // Teardown TCP connection ID for A to B duration H:MM:SS bytes N ...
		ok = proto(word(1)) && bytes.Equal(word(4), []byte("for")) && bytes.Equal(word(6), []byte("to"))
		a, pa, ok1 = asaEndpoint(word(5))
		b, pb, ok2 = asaEndpoint(word(7))
		var known bool
		if initiatorFirst, known = d.asaConns[string(word(3))]; !known {
			initiatorFirst = pa > pb
		} else {
			delete(d.asaConns, string(word(3)))
		}
		d.asaCounters(words[min(8, len(words)):], rec)
	case id == 302020 || id == 302021:
		// Built {inbound|outbound} ICMP connection for faddr F/0 gaddr G/0 laddr L/0 [type T code C]
		// Teardown ICMP connection for faddr F/0 gaddr G/0 laddr L/0 [type T code C] duration D bytes N
		rec.Proto = flow.ProtoICMP
		var f, l []byte
		for i := 0; i+1 < len(words); i++ {
			switch string(words[i]) {
			case "faddr":
				f = words[i+1]
			case "laddr":
				l = words[i+1]
			}
		}
		if !asaICMP(words, rec) {
			rec.ICMPType = flow.ICMPEchoRequest // an echo, when the message does not say
		}
		d.asaCounters(words, rec)
		a, _, ok1 = asaEndpoint(f)
		b, _, ok2 = asaEndpoint(l)
		ok = true
		key := string(f) + " " + string(l)
		if id == 302020 {
			initiatorFirst = bytes.Equal(word(1), []byte("inbound"))
			d.asaConn(key, initiatorFirst)
		} else if first, known := d.asaConns[key]; known {
			initiatorFirst = first
			delete(d.asaConns, key)
		}
		if a.Is6() {
			rec.Proto = flow.ProtoICMPv6
		}
	case id == 106023:
		// Deny tcp src A/PA dst B/PB by access-group "X"
		// Deny icmp src A dst B (type T, code C) by access-group "X"
		ok = proto(word(1)) && bytes.Equal(word(2), []byte("src")) && bytes.Equal(word(4), []byte("dst"))
		if rec.Proto == flow.ProtoICMP || rec.Proto == flow.ProtoICMPv6 {
			a, ok1 = asaHost(word(3))
			b, ok2 = asaHost(word(5))
			asaICMP(words, rec)
		} else {
			a, pa, ok1 = asaEndpoint(word(3))
			b, pb, ok2 = asaEndpoint(word(5))
		}
	case id == 106001 || id == 106015 || id == 710003:
		// Inbound TCP connection denied from A to B flags ...
		// Deny TCP (no connection) from A to B flags ...
		// TCP access denied by ACL from A to ifc:B
		from := bytes.Index(text, []byte(" from "))
		to := bytes.Index(text, []byte(" to "))
		ok = from > 0 && to > from
		if ok {
			a, pa, ok1 = asaEndpoint(firstWord(text[from+6:]))
			b, pb, ok2 = asaEndpoint(firstWord(text[to+4:]))
			ok = proto(word(0)) || proto(word(1))
		}
	default:
		dec.notFlow = d.asaNotFlow(id)
	}
	if dec.reason == "" && dec.notFlow == "" && !(ok && ok1 && ok2) {
		dec.reason, dec.detail = ReasonMalformed, "ASA message "+strconv.Itoa(id)+" not understood"
	}
	if dec.reason == "" && dec.notFlow == "" {
		if !initiatorFirst {
			a, b, pa, pb = b, a, pb, pa
		}
		rec.SrcAddr, rec.DstAddr, rec.SrcPort, rec.DstPort = a, b, pa, pb
		if ts := asaTime(line); ts != nil {
			dec.slots[slotEnd] = value{kind: kindString, raw: ts}
		}
		if dec.slots[slotDuration].kind == kindAbsent {
			dec.slots[slotDuration] = zeroDuration
		}
	}
	reason, detail := dec.finish(rec)
	return d.keep(reason, detail, pos)
}

// asaNotFlow names the message id that is not a flow, as the not-flow
// counts show it; the names are kept, as most of an ASA log is such
// messages.
func (d *Reader) asaNotFlow(id int) string {
	name, ok := d.asaNotFlows[id]
	if !ok {
		if d.asaNotFlows == nil {
			d.asaNotFlows = map[int]string{}
		}
		name = "asa message " + strconv.Itoa(id)
		d.asaNotFlows[id] = name
	}
	return name
}

// asaCounters reads a teardown's "duration H:MM:SS" and "bytes N".
func (d *Reader) asaCounters(words [][]byte, rec *flow.Record) {
	for i := 0; i+1 < len(words); i++ {
		switch string(words[i]) {
		case "duration":
			if dur, ok := asaDuration(words[i+1]); ok {
				d.dec.slots[slotDuration] = value{kind: kindNumber, raw: strconv.AppendInt(d.kvTime[:0], dur, 10)}
			}
		case "bytes":
			if n, err := strconv.ParseUint(string(words[i+1]), 10, 64); err == nil {
				rec.Bytes = n
			}
		}
	}
}

// asaConn remembers which side of connection id opened it.
func (d *Reader) asaConn(id string, initiatorFirst bool) {
	if d.asaConns == nil || len(d.asaConns) >= asaMaxConns {
		d.asaConns = map[string]bool{}
	}
	d.asaConns[id] = initiatorFirst
}

// asaDuration parses H:MM:SS (hours may exceed 24) into seconds.
func asaDuration(b []byte) (int64, bool) {
	h, rest, ok1 := bytes.Cut(b, []byte{':'})
	m, sec, ok2 := bytes.Cut(rest, []byte{':'})
	if !ok1 || !ok2 {
		return 0, false
	}
	var s int64
	for _, p := range [...][]byte{h, m, sec} {
		n, err := strconv.ParseInt(string(p), 10, 32) // hours beyond 2^31 would overflow the sum
		if err != nil || n < 0 {
			return 0, false
		}
		s = s*60 + n
	}
	return s, true
}

// firstWord returns the first space-separated word of b, or nil.
func firstWord(b []byte) []byte {
	b = bytes.TrimLeft(b, " ")
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		return b[:i]
	}
	return b
}
