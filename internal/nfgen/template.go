package nfgen

import (
	"fmt"
	"slices"
)

// Field is one field specifier of a template.
type Field struct {
	ID     uint16 // element id (enterprise bit clear)
	Length uint16 // bytes; VarLen for a variable-length field (IPFIX only)
	PEN    uint32 // private enterprise number, 0 for IANA elements (IPFIX only)

	// Value is what the field carries when the record does not say it:
	// an options value's default, a sampler id, an element the encoder
	// does not map (written big-endian in Length bytes).
	Value uint64
	// Size is the content length of a variable-length field (filler
	// bytes); Long writes its length in three bytes (255, u16) even below
	// 255, as RFC 7011 section 7 allows.
	Size int
	Long bool
}

// Template is a (data or options) template an exporter can send and
// encode records with. Scope > 0 makes it an options template whose first
// Scope fields are the scope (v9 scope types, or IPFIX elements).
type Template struct {
	ID     uint16
	Fields []Field
	Scope  int
}

// IPv4Fields returns a v9 or IPFIX IPv4 flow layout with sysUptime times
// (the usual v9 record; in IPFIX those times need systemInitTimeMilliseconds
// options data).
func IPv4Fields() []Field {
	return []Field{
		{ID: SourceIPv4Address, Length: 4}, {ID: DestinationIPv4Address, Length: 4},
		{ID: IPNextHopIPv4Address, Length: 4},
		{ID: IngressInterface, Length: 4}, {ID: EgressInterface, Length: 4},
		{ID: PacketDeltaCount, Length: 4}, {ID: OctetDeltaCount, Length: 8},
		{ID: FlowStartSysUpTime, Length: 4}, {ID: FlowEndSysUpTime, Length: 4},
		{ID: SourceTransportPort, Length: 2}, {ID: DestinationTransportPort, Length: 2},
		{ID: TCPControlBits, Length: 1}, {ID: ProtocolIdentifier, Length: 1},
		{ID: BGPSourceASNumber, Length: 4}, {ID: BGPDestinationASNumber, Length: 4},
	}
}

// IPv6Fields returns IPv4Fields for IPv6 flows.
func IPv6Fields() []Field {
	return []Field{
		{ID: SourceIPv6Address, Length: 16}, {ID: DestinationIPv6Address, Length: 16},
		{ID: IPNextHopIPv6Address, Length: 16},
		{ID: IngressInterface, Length: 4}, {ID: EgressInterface, Length: 4},
		{ID: PacketDeltaCount, Length: 4}, {ID: OctetDeltaCount, Length: 8},
		{ID: FlowStartSysUpTime, Length: 4}, {ID: FlowEndSysUpTime, Length: 4},
		{ID: SourceTransportPort, Length: 2}, {ID: DestinationTransportPort, Length: 2},
		{ID: TCPControlBits, Length: 1}, {ID: ProtocolIdentifier, Length: 1},
		{ID: BGPSourceASNumber, Length: 4}, {ID: BGPDestinationASNumber, Length: 4},
	}
}

// CompactFields is a small v9 IPv4 layout (30 bytes a record) for benchmarks:
// addresses, ports, protocol, flags, 4-byte counters, sysUptime times.
func CompactFields() []Field {
	return []Field{
		{ID: SourceIPv4Address, Length: 4}, {ID: DestinationIPv4Address, Length: 4},
		{ID: SourceTransportPort, Length: 2}, {ID: DestinationTransportPort, Length: 2},
		{ID: ProtocolIdentifier, Length: 1}, {ID: TCPControlBits, Length: 1},
		{ID: PacketDeltaCount, Length: 4}, {ID: OctetDeltaCount, Length: 4},
		{ID: FlowStartSysUpTime, Length: 4}, {ID: FlowEndSysUpTime, Length: 4},
	}
}

// compiled is a template ready for encoding.
type compiled struct {
	Template
	kinds  []kind
	has    [numKinds]bool
	minLen int // record length with every variable field at its Size
}

func compile(version uint16, t Template) (*compiled, error) {
	if t.ID < 256 {
		return nil, fmt.Errorf("cannot define template %d: %w: got id %d, want >= 256", t.ID, ErrTemplate, t.ID)
	}
	if len(t.Fields) == 0 || t.Scope > len(t.Fields) || t.Scope < 0 {
		return nil, fmt.Errorf("cannot define template %d: %w: %d fields, scope %d", t.ID, ErrTemplate, len(t.Fields), t.Scope)
	}
	c := &compiled{Template: Template{ID: t.ID, Fields: slices.Clone(t.Fields), Scope: t.Scope}, kinds: make([]kind, len(t.Fields))}
	for i, f := range t.Fields {
		if err := checkField(version, f); err != nil {
			return nil, fmt.Errorf("cannot define template %d field %d (%d): %w", t.ID, i, f.ID, err)
		}
		k := kFiller
		if t.Scope == 0 && f.Length != VarLen {
			k = kindOf(f.PEN, f.ID)
			if w := k.addrLen(); w != 0 && int(f.Length) != w {
				k = kFiller // the decoder ignores an address of the wrong width
			}
		}
		c.kinds[i] = k
		c.has[k] = true
		c.minLen += fieldLen(f)
	}
	return c, nil
}

func checkField(version uint16, f Field) error {
	switch {
	case f.Length == 0:
		return fmt.Errorf("%w: length 0", ErrTemplate)
	case f.ID&0x8000 != 0:
		return fmt.Errorf("%w: id %#x has the enterprise bit (use PEN)", ErrTemplate, f.ID)
	case version == 9 && (f.PEN != 0 || f.Length == VarLen):
		return fmt.Errorf("%w: v9 has no enterprise or variable-length fields", ErrTemplate)
	case f.Length == VarLen && (f.Size < 0 || f.Size > 65535):
		return fmt.Errorf("%w: variable-length size %d", ErrTemplate, f.Size)
	}
	return nil
}

// fieldLen is the bytes a field takes in a record.
func fieldLen(f Field) int {
	switch {
	case f.Length != VarLen:
		return int(f.Length)
	case f.Size >= 255 || f.Long:
		return 3 + f.Size
	}
	return 1 + f.Size
}

// options reports whether t is an options template.
func (t *Template) options() bool { return t.Scope > 0 }
