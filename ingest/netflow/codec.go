package netflow

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The serialised TemplateCache (MarshalBinary), all integers big-endian:
//
//	magic "FCT1"
//	u32 template count, then per template:
//	  exporter | u32 domain | u16 id | u16 version | u8 flags (1 = options)
//	  | u16 scope fields | u16 field count | count x (u16 id | u16 length | u32 PEN)
//	u32 domain count, then per domain:
//	  exporter | u32 domain | u8 flags (1 = has system init) | u64 system init ms
//	  | u32 default sampling | u16 sampler count | count x (u64 sampler id | u32 interval)
//
// exporter = u8 address length (0, 4 or 16) | address bytes | u16 port.
// Entries are in key order, so equal caches marshal to equal bytes.

const cacheMagic = "FCT1"

// errCache is the sentinel for a serialised cache that cannot be read.
var errCache = errors.New("netflow: bad serialised template cache")

// MarshalBinary serialises every template and the options state.
func (c *TemplateCache) MarshalBinary() ([]byte, error) {
	b := []byte(cacheMagic)
	ts := c.Templates()
	b = binary.BigEndian.AppendUint32(b, uint32(len(ts)))
	for _, t := range ts {
		b = appendTemplate(b, t)
	}
	ds := c.Domains()
	b = binary.BigEndian.AppendUint32(b, uint32(len(ds)))
	for _, d := range ds {
		b = appendDomain(b, d)
	}
	return b, nil
}

func appendExporter(b []byte, e Exporter) []byte {
	a := e.Addr.AsSlice()
	b = append(b, byte(len(a)))
	b = append(b, a...)
	return binary.BigEndian.AppendUint16(b, e.Port)
}

func appendTemplate(b []byte, t *Template) []byte {
	b = appendExporter(b, t.Key.Exporter)
	b = binary.BigEndian.AppendUint32(b, t.Key.Domain)
	b = binary.BigEndian.AppendUint16(b, t.Key.ID)
	b = binary.BigEndian.AppendUint16(b, t.Key.Version)
	var flags byte
	if t.Options {
		flags = 1
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(t.ScopeFields))
	b = binary.BigEndian.AppendUint16(b, uint16(len(t.Fields)))
	for _, f := range t.Fields {
		b = binary.BigEndian.AppendUint16(b, f.ID)
		b = binary.BigEndian.AppendUint16(b, f.Length)
		b = binary.BigEndian.AppendUint32(b, f.PEN)
	}
	return b
}

func appendDomain(b []byte, d DomainInfo) []byte {
	b = appendExporter(b, d.Key.Exporter)
	b = binary.BigEndian.AppendUint32(b, d.Key.Domain)
	var flags byte
	if d.HasSystemInit {
		flags = 1
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint64(b, uint64(d.SystemInitMillis))
	b = binary.BigEndian.AppendUint32(b, d.DefaultSampling)
	b = binary.BigEndian.AppendUint16(b, uint16(len(d.Samplers)))
	for _, s := range d.Samplers {
		b = binary.BigEndian.AppendUint64(b, s.SamplerID)
		b = binary.BigEndian.AppendUint32(b, s.Interval)
	}
	return b
}

// UnmarshalBinary replaces the cache's content with a serialised one. Every
// template is validated as if it came from the wire. Templates and domains
// beyond MaxTemplates or MaxBytes (a store written before MaxBytes held up
// to 270 MB) are left out and counted (Dropped), in key order. On error
// the cache is left unchanged.
func (c *TemplateCache) UnmarshalBinary(data []byte) error {
	r := newReader(data)
	if string(r.bytes(len(cacheMagic))) != cacheMagic {
		return fmt.Errorf("cannot read template cache: %w: magic", errCache)
	}
	n := NewTemplateCache()
	n.MaxTemplates, n.MaxBytes = c.MaxTemplates, c.MaxBytes
	if err := n.readTemplates(&r); err != nil {
		return err
	}
	if err := n.readDomains(&r); err != nil {
		return err
	}
	if r.left() != 0 {
		return fmt.Errorf("cannot read template cache: %w: %d trailing bytes", errCache, r.left())
	}
	clear(n.dirty)
	n.domDirty = false
	c.templates, c.byDomain, c.domains, c.dirty, c.domDirty = n.templates, n.byDomain, n.domains, n.dirty, false
	c.size, c.dropped = n.size, n.dropped
	return nil
}

func readExporter(r *reader) (Exporter, bool) {
	var e Exporter
	switch l := r.u8(); l {
	case 0:
	case 4:
		if b := r.bytes(4); b != nil {
			e.Addr = addr4(b)
		}
	case 16:
		if b := r.bytes(16); b != nil {
			e.Addr = addr6(b)
		}
	default:
		return e, false
	}
	e.Port = r.u16()
	return e, !r.failed()
}

func (c *TemplateCache) readTemplates(r *reader) error {
	count := int(r.u32())
	for i := 0; i < count; i++ {
		if err := c.readTemplate(r); err != nil {
			return fmt.Errorf("cannot read template %d of %d: %w", i, count, err)
		}
	}
	if r.failed() {
		return fmt.Errorf("cannot read template count: %w", errCache)
	}
	return nil
}

func (c *TemplateCache) readTemplate(r *reader) error {
	var k TemplateKey
	var ok bool
	if k.Exporter, ok = readExporter(r); !ok {
		return errCache
	}
	k.Domain, k.ID, k.Version = r.u32(), r.u16(), r.u16()
	options := r.u8() == 1
	scope, nf := int(r.u16()), int(r.u16())
	if r.failed() || nf > MaxTemplateFields || nf*8 > r.left() {
		return errCache
	}
	fields := make([]Field, nf)
	for j := range fields {
		fields[j] = Field{ID: r.u16(), Length: r.u16(), PEN: r.u32()}
	}
	if k.Version != 9 && k.Version != 10 {
		return fmt.Errorf("%w: version %d", errCache, k.Version)
	}
	switch _, reason := c.learn(k, options, scope, fields); reason {
	case reasonNone:
	case ErrTooManyTemplates:
		c.dropped++
	default:
		return fmt.Errorf("%w: %w", errCache, reason)
	}
	return nil
}

func (c *TemplateCache) readDomains(r *reader) error {
	count := int(r.u32())
	for i := 0; i < count && !r.failed(); i++ {
		var dk DomainKey
		var ok bool
		if dk.Exporter, ok = readExporter(r); !ok {
			return fmt.Errorf("cannot read domain %d: %w", i, errCache)
		}
		dk.Domain = r.u32()
		s := c.domainForUpdate(dk)
		left := s == nil // beyond MaxBytes: read, and left out
		if left {
			s = &domainState{}
			c.dropped++
		}
		s.hasInit = r.u8() == 1
		s.sysInitMs = int64(r.u64())
		s.defInterval = r.u32()
		ns := int(r.u16())
		if ns > maxSamplers+maxIfSamplers || ns*12 > r.left() {
			return fmt.Errorf("cannot read domain %d samplers: %w", i, errCache)
		}
		for j := 0; j < ns; j++ {
			if id, iv := r.u64(), r.u32(); !left {
				c.setSampler(s, id, iv)
			}
		}
	}
	if r.failed() {
		return fmt.Errorf("cannot read domains: %w", errCache)
	}
	return nil
}
