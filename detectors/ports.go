package detectors

import "github.com/flowcase/flowcase/internal/flow"

// servicePorts marks the ports that a server listens on: all of 1-1023 and
// the registered ports below that commonly carry services. A flow from such
// a port to a port not in the set is taken as a server's reply when nothing
// better (a SYN, a matching request) says who opened the connection.
var servicePorts = func() (b [1024]uint64) {
	set := func(p uint16) { b[p>>6] |= 1 << (p & 63) }
	for p := uint16(1); p < 1024; p++ {
		set(p)
	}
	for _, p := range []uint16{
		1080, 1194, 1433, 1434, 1521, 1701, 1723, 1812, 1813, 1883, 2049, 2082, 2083,
		2181, 2375, 2376, 2483, 2484, 3000, 3128, 3260, 3268, 3269, 3306, 3389, 3478,
		3479, 4369, 4443, 4500, 5000, 5001, 5060, 5061, 5222, 5223, 5228, 5353, 5355,
		5432, 5601, 5671, 5672, 5900, 5938, 5984, 5985, 5986, 6379, 6443, 6514, 6667,
		7001, 7002, 8000, 8008, 8080, 8081, 8088, 8200, 8443, 8883, 8888, 9000, 9042,
		9090, 9092, 9100, 9200, 9300, 9418, 9443, 10050, 10051, 11211, 15672, 19302,
		25565, 27017,
	} {
		set(p)
	}
	return b
}()

func isService(p uint16) bool { return servicePorts[p>>6]&(1<<(p&63)) != 0 }

// ephemeralFrom is where the ephemeral range of most systems starts (Linux
// 32768-60999, Windows and BSD 49152-65535).
const ephemeralFrom = 32768

// hasPorts reports whether the protocol carries ports that name services.
func hasPorts(proto uint8) bool {
	return proto == flow.ProtoTCP || proto == flow.ProtoUDP || proto == 132 || proto == 33 || proto == 136
}

// icmpTypeCode returns the ICMP type and code of a record. Decoders that
// follow NetFlow v5 put them in the destination port (type<<8 | code); that
// is used when the record's own fields are empty.
func icmpTypeCode(r *flow.Record) (uint8, uint8) {
	if r.ICMPType == 0 && r.ICMPCode == 0 && r.DstPort != 0 {
		return uint8(r.DstPort >> 8), uint8(r.DstPort)
	}
	return r.ICMPType, r.ICMPCode
}

// icmpKind classifies an ICMP message: a request (opens an exchange), a
// reply, or an error report sent back to the opener of something else.
type icmpKind uint8

const (
	icmpRequest icmpKind = iota
	icmpReply
	icmpError
)

func classifyICMP(proto, typ uint8) icmpKind {
	if proto == flow.ProtoICMPv6 {
		switch {
		case typ < 128:
			return icmpError // 1 unreachable, 2 too big, 3 time exceeded, 4 parameter
		case typ == 129 || typ == 134 || typ == 136:
			return icmpReply // echo reply, router and neighbour advertisement
		}
		return icmpRequest
	}
	switch typ {
	case 3, 4, 5, 11, 12:
		return icmpError
	case 0, 14, 16, 18:
		return icmpReply
	}
	return icmpRequest
}

// isUnreachable reports whether an ICMP type is "destination unreachable".
func isUnreachable(proto, typ uint8) bool {
	if proto == flow.ProtoICMPv6 {
		return typ == 1
	}
	return typ == 3
}
