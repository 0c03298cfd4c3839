package netflow

import "encoding/binary"

// Sniff recognises an export packet by its content and returns its version
// (1, 5, 7, 9 or 10). It checks header sanity, not every set:
//   - v1, v5, v7: count 1..24, 30 or 28 and the payload holds count records
//     (trailing bytes tolerated), or holds a whole number of records (a
//     count that lies);
//   - v9: the first FlowSet has a template, options template or data id,
//     and count is not beyond what the payload could hold;
//   - IPFIX: the message length equals the payload length, or exceeds it
//     (a capture cut by its snap length: Decode reports the truncation),
//     and the first set has a template, options template or data id.
//
// Set lengths are not checked: a packet with a damaged set is still an
// export packet, and Decode reports the damage (ErrSetLength) instead of
// the packet silently not being recognised.
func Sniff(payload []byte) (version uint16, ok bool) {
	if len(payload) < 4 {
		return 0, false
	}
	switch v := binary.BigEndian.Uint16(payload); v {
	case 1, 5, 7:
		l, _ := fixedLayoutOf(v)
		return v, sniffFixed(l, payload)
	case 9:
		return v, sniffV9(payload)
	case 10:
		return v, sniffIPFIX(payload)
	}
	return 0, false
}

func sniffFixed(l fixedLayout, b []byte) bool {
	if len(b) < l.header+l.record {
		return false
	}
	count := int(binary.BigEndian.Uint16(b[2:]))
	if count == 0 || count > l.max {
		return false
	}
	return len(b) >= l.header+count*l.record || (len(b)-l.header)%l.record == 0
}

func sniffV9(b []byte) bool {
	if len(b) < v9HeaderLen+setHeaderLen {
		return false
	}
	count := int(binary.BigEndian.Uint16(b[2:]))
	if count > len(b)-v9HeaderLen {
		return false
	}
	return plausibleSet(b[v9HeaderLen:], v9TemplateSet, v9OptionsSet)
}

func sniffIPFIX(b []byte) bool {
	if len(b) < ipfixHeaderLen+setHeaderLen {
		return false
	}
	length := int(binary.BigEndian.Uint16(b[2:]))
	if length < len(b) || length < ipfixHeaderLen+setHeaderLen {
		return false
	}
	return plausibleSet(b[ipfixHeaderLen:], ipfixTemplateSet, ipfixOptionsSet)
}

// plausibleSet checks the first set id: template, options template or data.
func plausibleSet(b []byte, tpl, opt uint16) bool {
	id := binary.BigEndian.Uint16(b)
	return id == tpl || id == opt || id >= minDataSetID
}

// Sound reports whether payload is an export packet of version as Sniff
// sees it and is also consistent beyond the few bytes Sniff checks: a
// v1/v5/v7 packet holds count records or a whole number of records; a v9
// packet's first FlowSet, and an IPFIX message's first set, has a
// plausible id and a length within the payload, and an IPFIX message's
// length is the payload's. Damage after the first set is left to Decode.
//
// Sniff alone tolerates damage, so that a damaged export packet is
// reported instead of passing unnoticed; but its header bytes also occur
// by chance in other UDP traffic (QUIC packets begin like an IPFIX header
// about once in 65,536). Callers ask Sound of datagrams from a source not
// yet known to export.
func Sound(payload []byte, version uint16) bool {
	if v, ok := Sniff(payload); !ok || v != version {
		return false
	}
	switch version {
	case 1, 5, 7:
		l, ok := fixedLayoutOf(version)
		if !ok || len(payload) <= l.header {
			return false
		}
		count := int(binary.BigEndian.Uint16(payload[2:]))
		return count > 0 && count <= l.max &&
			(len(payload) == l.header+count*l.record || (len(payload)-l.header)%l.record == 0)
	case 9:
		return len(payload) >= v9HeaderLen+setHeaderLen && firstSet(payload[v9HeaderLen:], v9TemplateSet, v9OptionsSet)
	case 10:
		return len(payload) >= ipfixHeaderLen+setHeaderLen && int(binary.BigEndian.Uint16(payload[2:])) == len(payload) &&
			firstSet(payload[ipfixHeaderLen:], ipfixTemplateSet, ipfixOptionsSet)
	}
	return false
}

// firstSet reports whether b begins with a set of a plausible id whose
// length is at least a set header and at most len(b).
func firstSet(b []byte, tpl, opt uint16) bool {
	n := int(binary.BigEndian.Uint16(b[2:]))
	return plausibleSet(b, tpl, opt) && n >= setHeaderLen && n <= len(b)
}
