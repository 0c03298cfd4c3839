package netflow

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
)

// Limits on what a template may claim. A template outside them is refused
// (and counted by reason), never allocated.
const (
	// MaxTemplateFields is the most fields a template may have.
	MaxTemplateFields = 512
	// maxRecordLen is the longest record any datagram can carry.
	maxRecordLen = 65535 - 16 - 4
	// DefaultMaxTemplates bounds a TemplateCache unless MaxTemplates is set.
	DefaultMaxTemplates = 1 << 16
	// DefaultMaxBytes bounds a TemplateCache's serialised size (its
	// templates' fields and the options state of its domains) unless
	// MaxBytes is set. The cache is kept in the store as one value, which
	// Badger limits to 128 MiB: DefaultMaxTemplates templates of
	// MaxTemplateFields fields would take 270 MB, and the commit of the
	// file that brought them failed with its flows. 24 MiB is 65,536
	// templates of 45 fields, or 6,000 of 512.
	DefaultMaxBytes = 24 << 20
	// varLen is the IPFIX field length meaning "variable length".
	varLen = 65535
)

// Exporter is the UDP source of an export packet.
type Exporter struct {
	Addr netip.Addr
	Port uint16
}

// TemplateKey identifies a template: two exporters, two UDP source ports,
// two observation domains (v9 source ids) or two protocol versions with
// the same template id never share a template.
type TemplateKey struct {
	Exporter Exporter
	Domain   uint32 // v9 source id, IPFIX observation domain id
	ID       uint16 // template id (>= 256)
	Version  uint16 // 9 or 10
}

// DomainKey identifies an exporter's observation domain (v9 source id),
// the scope of options data such as sampling intervals.
type DomainKey struct {
	Exporter Exporter
	Domain   uint32
}

// DomainKey returns the key of the template's observation domain.
func (k TemplateKey) DomainKey() DomainKey { return DomainKey{k.Exporter, k.Domain} }

// Field is one field specifier of a template.
type Field struct {
	ID     uint16 // element id, enterprise bit cleared
	Length uint16 // bytes; 65535 = variable length (IPFIX)
	PEN    uint32 // private enterprise number, 0 for IANA elements
}

// Template is a learned (options) template, compiled for decoding.
// Templates are immutable once learned; a new definition replaces them.
type Template struct {
	Key         TemplateKey
	Options     bool // options template: its records describe the exporter, not flows
	ScopeFields int  // number of leading scope fields (options templates)
	Fields      []Field

	ops    []op
	minLen int // minimum record length (variable fields count 1 byte)
	// fixed lists the decoded (not skipped) fields with their offsets
	// when every field has a fixed length (fixedLen = minLen > 0); such
	// records need one length check, not one per field.
	fixed    []fieldOp
	fixedLen int
}

// fieldOp is a decoded field of a record: bytes off..end of the record.
type fieldOp struct {
	kind     kind
	off, end uint32
}

type op struct {
	kind kind
	len  uint16 // varLen: variable
}

// MinRecordLen is the smallest record the template can describe.
func (t *Template) MinRecordLen() int { return t.minLen }

// checkTemplate validates a template definition.
func checkTemplate(version uint16, fields []Field, scope int) Reason {
	if len(fields) == 0 || scope > len(fields) {
		return ErrBadTemplate
	}
	if len(fields) > MaxTemplateFields {
		return ErrTooManyFields
	}
	// Fields of length 0 carry nothing and are skipped (some v9 exporters
	// send them, in data and in options scopes, e.g. Juniper's SRX); a
	// record must still have a byte.
	n := 0
	for _, f := range fields {
		switch {
		case f.Length == varLen && version == 10:
			n++
		default:
			n += int(f.Length)
		}
	}
	if n == 0 || n > maxRecordLen {
		return ErrFieldLength
	}
	return reasonNone
}

// newTemplate validates and compiles a template; fields are copied.
func newTemplate(key TemplateKey, options bool, scope int, fields []Field) (*Template, Reason) {
	if r := checkTemplate(key.Version, fields, scope); r != reasonNone {
		return nil, r
	}
	t := &Template{Key: key, Options: options, ScopeFields: scope, Fields: slices.Clone(fields)}
	t.compile()
	return t, reasonNone
}

// compile turns the fields into decoding ops: each record field slot is
// filled by the best-ranked field (first occurrence among equals), every
// other field is skipped by its length.
func (t *Template) compile() {
	type choice struct {
		rank uint8
		idx  int
	}
	var best [numSlots]choice
	for i := range best {
		best[i].idx = -1
	}
	t.ops = make([]op, len(t.Fields))
	t.minLen = 0
	for i, f := range t.Fields {
		l := f.Length
		if l == varLen && t.Key.Version != 10 {
			l = varLen - 1 // v9 has no variable length: a (hopeless) fixed field
		}
		t.ops[i] = op{kind: kSkip, len: l}
		if l == varLen {
			t.minLen++
		} else {
			t.minLen += int(l)
		}
		if t.Options && i < t.ScopeFields {
			if interfaceScope(t.Key.Version, f) && l >= 1 && l <= 8 {
				t.ops[i].kind = kScopeIf
				continue
			}
			if t.Key.Version == 9 {
				continue // v9 scope types (system, interface...) are their own id space
			}
		}
		e := lookupElement(f.PEN, f.ID)
		if e.kind == kSkip || !e.widthOK(l) {
			continue
		}
		b := &best[e.slot]
		if b.idx >= 0 && b.rank <= e.rank {
			continue
		}
		if b.idx >= 0 {
			t.ops[b.idx].kind = kSkip
		}
		*b = choice{e.rank, i}
		t.ops[i].kind = e.kind
	}
	t.compileFixed()
}

// interfaceScope reports whether an options template's scope field names
// an interface: v9's scope type 2, IPFIX's ingressInterface (10) or
// egressInterface (14).
func interfaceScope(version uint16, f Field) bool {
	if version == 9 {
		return f.ID == 2
	}
	return f.PEN == 0 && (f.ID == ieInIf || f.ID == ieOutIf)
}

// compileFixed fills fixed and fixedLen when no field is variable-length.
func (t *Template) compileFixed() {
	t.fixed, t.fixedLen = nil, 0
	off := 0
	for _, o := range t.ops {
		if o.len == varLen {
			return
		}
		off += int(o.len)
	}
	if off == 0 || off > maxRecordLen {
		return
	}
	off = 0
	for _, o := range t.ops {
		end := off + int(o.len)
		if o.kind != kSkip {
			t.fixed = append(t.fixed, fieldOp{kind: o.kind, off: uint32(off), end: uint32(end)})
		}
		off = end
	}
	t.fixedLen = off
}

// sameDefinition reports whether t already has this definition, so a
// template resent in every packet costs no allocation.
func (t *Template) sameDefinition(options bool, scope int, fields []Field) bool {
	return t.Options == options && t.ScopeFields == scope && slices.Equal(t.Fields, fields)
}

// sampler is one sampler's interval from options data.
type sampler struct {
	id       uint64
	interval uint32
}

// maxSamplers bounds the samplers remembered per domain.
const maxSamplers = 256

// domainState is what options data told about an observation domain.
type domainState struct {
	sysInitMs   int64 // systemInitTimeMilliseconds (IPFIX 160)
	hasInit     bool
	defInterval uint32 // sampling interval from options without a sampler id
	samplers    []sampler
	// ifSampling is the sampling of each interface that options data
	// scoped to it gave (the sampler ifSampler | ifIndex), at most
	// maxIfSamplers of them.
	ifSampling map[uint32]uint32
}

// ifSampler marks the sampler ids that are interfaces: options data scoped
// to an interface gives the sampling of the flows through it, kept as the
// sampler ifSampler | ifIndex (a sampler id from the wire with this bit
// set would be taken for an interface).
const ifSampler = 1 << 63

// maxIfSamplers bounds the interfaces whose sampling a domain remembers.
const maxIfSamplers = 4096

func (s *domainState) setSampler(id uint64, interval uint32) {
	if id&ifSampler != 0 {
		ifx := uint32(id)
		if _, ok := s.ifSampling[ifx]; !ok && len(s.ifSampling) >= maxIfSamplers {
			return
		}
		if s.ifSampling == nil {
			s.ifSampling = map[uint32]uint32{}
		}
		s.ifSampling[ifx] = interval
		return
	}
	for i := range s.samplers {
		if s.samplers[i].id == id {
			s.samplers[i].interval = interval
			return
		}
	}
	if len(s.samplers) < maxSamplers {
		s.samplers = append(s.samplers, sampler{id, interval})
	}
}

// samplerCount is how many samplers and interfaces the state holds.
func (s *domainState) samplerCount() int { return len(s.samplers) + len(s.ifSampling) }

// sampler returns the interval of sampler id (an interface's when id has
// the ifSampler bit), 0 if none is known.
func (s *domainState) sampler(id uint64) uint32 {
	if id&ifSampler != 0 {
		return s.ifSampling[uint32(id)]
	}
	for _, sm := range s.samplers {
		if sm.id == id {
			return sm.interval
		}
	}
	return 0
}

// interval returns the sampling interval for a record naming sampler id
// (hasID) or none, on interfaces in and out (0: none); 0 when options data
// said nothing that applies. The record's sampler comes first, then its
// input interface's, then its output interface's (egress sampling), then
// the domain's.
func (s *domainState) interval(id uint64, hasID bool, in, out uint32) uint32 {
	if hasID {
		if v := s.sampler(id); v != 0 {
			return v
		}
	}
	if len(s.ifSampling) > 0 {
		for _, ifx := range [2]uint32{in, out} {
			if v := s.ifSampling[ifx]; ifx != 0 && v != 0 {
				return v
			}
		}
	}
	if s.defInterval != 0 {
		return s.defInterval
	}
	if !hasID && len(s.samplers) == 1 && len(s.ifSampling) == 0 {
		return s.samplers[0].interval
	}
	return 0
}

// TemplateCache holds the templates and options-derived state (sampling
// intervals, system init times) of every exporter seen. It is not safe for
// concurrent use; give each decoding goroutine its own, or guard it.
type TemplateCache struct {
	// MaxTemplates bounds the number of templates (DefaultMaxTemplates
	// when 0); templates beyond it are refused with ErrTooManyTemplates.
	MaxTemplates int
	// MaxBytes bounds the serialised size (DefaultMaxBytes when 0):
	// templates that would take the cache beyond it are refused with
	// ErrTooManyTemplates, and so is the options data of a new domain or
	// sampler (counted with that reason, its record otherwise decoded).
	MaxBytes int

	size      int // serialised size of the templates and domains (cacheSize)
	dropped   int // templates and domains left out when unmarshalling (MaxBytes)
	templates map[TemplateKey]*Template
	byDomain  map[DomainKey]map[TemplateKey]struct{} // index for withdraw-all
	domains   map[DomainKey]*domainState
	dirty     map[TemplateKey]struct{}
	domDirty  bool
}

// NewTemplateCache returns an empty cache.
func NewTemplateCache() *TemplateCache {
	c := &TemplateCache{}
	c.init()
	return c
}

// init makes the maps of a zero TemplateCache.
func (c *TemplateCache) init() {
	if c.templates == nil {
		c.templates = make(map[TemplateKey]*Template)
		c.byDomain = make(map[DomainKey]map[TemplateKey]struct{})
		c.domains = make(map[DomainKey]*domainState)
		c.dirty = make(map[TemplateKey]struct{})
	}
}

// Get returns the template for key, or nil.
func (c *TemplateCache) Get(key TemplateKey) *Template { return c.templates[key] }

// Len returns the number of templates.
func (c *TemplateCache) Len() int { return len(c.templates) }

// Templates returns every template, ordered by exporter, domain, version
// and id (for listings such as `info`).
func (c *TemplateCache) Templates() []*Template {
	out := make([]*Template, 0, len(c.templates))
	for _, t := range c.templates {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Template) int { return compareTemplateKeys(a.Key, b.Key) })
	return out
}

func compareTemplateKeys(a, b TemplateKey) int {
	if c := compareDomainKeys(a.DomainKey(), b.DomainKey()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Version, b.Version); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

func compareDomainKeys(a, b DomainKey) int {
	if c := a.Exporter.Addr.Compare(b.Exporter.Addr); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Exporter.Port, b.Exporter.Port); c != 0 {
		return c
	}
	return cmp.Compare(a.Domain, b.Domain)
}

// TakeDirty returns the keys of templates learned, changed or withdrawn
// since the last call (sorted), and whether options state (sampling,
// system init time) changed; the caller persists them.
func (c *TemplateCache) TakeDirty() (keys []TemplateKey, optionsChanged bool) {
	for k := range c.dirty {
		keys = append(keys, k)
		delete(c.dirty, k)
	}
	slices.SortFunc(keys, compareTemplateKeys)
	optionsChanged, c.domDirty = c.domDirty, false
	return keys, optionsChanged
}

// learn stores a template definition read from the wire. It reports
// whether the cache changed, or why the definition was refused.
func (c *TemplateCache) learn(key TemplateKey, options bool, scope int, fields []Field) (bool, Reason) {
	c.init()
	old := c.templates[key]
	if old != nil && old.sameDefinition(options, scope, fields) {
		return false, reasonNone
	}
	t, r := newTemplate(key, options, scope, fields)
	if r != reasonNone {
		return false, r
	}
	if old == nil && len(c.templates) >= c.maxTemplates() {
		return false, ErrTooManyTemplates
	}
	grow := templateSize(key, len(fields))
	if old != nil {
		grow -= templateSize(key, len(old.Fields))
	}
	if grow > 0 && c.size+grow > c.maxBytes() {
		return false, ErrTooManyTemplates
	}
	c.size += grow
	c.templates[key] = t
	c.dirty[key] = struct{}{}
	dk := key.DomainKey()
	if c.byDomain[dk] == nil {
		c.byDomain[dk] = make(map[TemplateKey]struct{})
	}
	c.byDomain[dk][key] = struct{}{}
	return true, reasonNone
}

func (c *TemplateCache) maxBytes() int {
	if c.MaxBytes > 0 {
		return c.MaxBytes
	}
	return DefaultMaxBytes
}

// Size is the cache's serialised size without its 12 bytes of magic and
// counts: what MaxBytes bounds.
func (c *TemplateCache) Size() int { return c.size }

// Dropped is how many templates and domains UnmarshalBinary left out, as
// they were beyond MaxBytes (a store written before that limit).
func (c *TemplateCache) Dropped() int { return c.dropped }

// exporterSize is a serialised exporter's size (codec.go).
func exporterSize(e Exporter) int { return 1 + len(e.Addr.AsSlice()) + 2 }

// templateSize is a serialised template's size.
func templateSize(k TemplateKey, fields int) int {
	return exporterSize(k.Exporter) + 4 + 2 + 2 + 1 + 2 + 2 + fields*8
}

// domainSize is a serialised domain's size without its samplers, and
// samplerSize each sampler's.
func domainSize(k DomainKey) int { return exporterSize(k.Exporter) + 4 + 1 + 8 + 4 + 2 }

const samplerSize = 8 + 4

func (c *TemplateCache) maxTemplates() int {
	if c.MaxTemplates > 0 {
		return c.MaxTemplates
	}
	return DefaultMaxTemplates
}

// withdraw removes one template; it reports whether one was there.
func (c *TemplateCache) withdraw(key TemplateKey) bool {
	if _, ok := c.templates[key]; !ok {
		return false
	}
	c.remove(key)
	return true
}

func (c *TemplateCache) remove(key TemplateKey) {
	if t := c.templates[key]; t != nil {
		c.size -= templateSize(key, len(t.Fields))
	}
	delete(c.templates, key)
	c.dirty[key] = struct{}{}
	dk := key.DomainKey()
	delete(c.byDomain[dk], key)
	if len(c.byDomain[dk]) == 0 {
		delete(c.byDomain, dk)
	}
}

// withdrawAll removes every (options or data) template of a domain and
// returns how many went. It visits only that domain's templates, so
// repeated withdrawals cannot make a packet cost the whole cache.
func (c *TemplateCache) withdrawAll(dk DomainKey, version uint16, options bool) int {
	n := 0
	for k := range c.byDomain[dk] {
		if k.Version == version && c.templates[k].Options == options {
			c.remove(k)
			n++
		}
	}
	return n
}

func (c *TemplateCache) domain(k DomainKey) *domainState { return c.domains[k] }

// domainForUpdate returns the state of domain k to change, made when
// there is none; nil when there is none and no room for it (MaxBytes).
func (c *TemplateCache) domainForUpdate(k DomainKey) *domainState {
	c.init()
	s := c.domains[k]
	if s == nil {
		if c.size+domainSize(k) > c.maxBytes() {
			return nil
		}
		c.size += domainSize(k)
		s = &domainState{}
		c.domains[k] = s
	}
	c.domDirty = true
	return s
}

// setSampler sets a sampler's interval in a domain's state, within
// MaxBytes; it reports false when a new sampler had no room.
func (c *TemplateCache) setSampler(s *domainState, id uint64, interval uint32) bool {
	n := s.samplerCount()
	if s.sampler(id) == 0 && c.size+samplerSize > c.maxBytes() {
		return false
	}
	s.setSampler(id, interval)
	c.size += (s.samplerCount() - n) * samplerSize
	return true
}

// SamplerInterval is one sampler's interval learned from options data.
type SamplerInterval struct {
	SamplerID uint64
	Interval  uint32
}

// DomainInfo is what options data said about an observation domain.
type DomainInfo struct {
	Key              DomainKey
	SystemInitMillis int64 // unix ms; valid when HasSystemInit
	HasSystemInit    bool
	DefaultSampling  uint32 // from options data without a sampler id; 0 if none
	Samplers         []SamplerInterval
}

// Domains returns the options-derived state of every domain, ordered.
func (c *TemplateCache) Domains() []DomainInfo {
	out := make([]DomainInfo, 0, len(c.domains))
	for k, s := range c.domains {
		di := DomainInfo{Key: k, SystemInitMillis: s.sysInitMs, HasSystemInit: s.hasInit, DefaultSampling: s.defInterval}
		for _, sm := range s.samplers {
			di.Samplers = append(di.Samplers, SamplerInterval{sm.id, sm.interval})
		}
		for _, ifx := range slices.Sorted(maps.Keys(s.ifSampling)) {
			di.Samplers = append(di.Samplers, SamplerInterval{ifSampler | uint64(ifx), s.ifSampling[ifx]})
		}
		out = append(out, di)
	}
	slices.SortFunc(out, func(a, b DomainInfo) int { return compareDomainKeys(a.Key, b.Key) })
	return out
}
