package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/netflow"
	"github.com/flowcase/flowcase/internal/flow"
)

// Auxiliary key kinds this package keeps in the store (docs/format/aux.md).
const (
	auxTemplates byte = 0x01 // 0x10 0x01                          -> template cache
	auxParked    byte = 0x02 // 0x10 0x02 source u32, n u32        -> parked data set
	auxSeen      byte = 0x03 // 0x10 0x03 exporter, version, domain, sequence, payload hash u64 -> source u32, payload hash u64 (read only: stores before chunks)
	auxSeenChunk byte = 0x04 // 0x10 0x04 exporter, version, domain, bucket u32, source u32, n u32 -> (sequence u32, payload hash u64)...
)

// Bounds on the data sets that wait for their template. They hold for
// what waits in the store (the sets earlier files left, which loadParked
// takes up, count against them) and so for an ingest's memory: a set
// beyond them is rejected as of an unknown template, and memory grows with
// the templates waited for, never with the sets that come for them.
const (
	maxParkedSets   = 32768    // sets in all
	maxParkedPerKey = 8192     // sets waiting for one template (exporter, domain, template id)
	maxParkedBytes  = 32 << 20 // their bytes, parkedOverhead counted for each
	// parkedOverhead is what a set costs beyond its own bytes: its entry
	// here, and its key and header in the store and in the write that
	// puts it there.
	parkedOverhead = 256
)

// parked is a data set that arrived before its template.
type parked struct {
	ps     netflow.ParkedSet
	set    []byte
	source uint32
	n      uint32 // its number among the file's parked sets (the store key's)
	key    []byte // its store key, when it has one
	ready  bool   // loaded with its template known (parkAs)
}

func loadTemplates(st *index.Store) (*netflow.TemplateCache, error) {
	cache := netflow.NewTemplateCache()
	v, ok, err := st.GetAux(index.AuxKey(auxTemplates, nil))
	if err != nil || !ok {
		return cache, err
	}
	if err := cache.UnmarshalBinary(v); err != nil {
		return nil, fmt.Errorf("cannot read the store's NetFlow templates: %w", err)
	}
	return cache, nil
}

// park keeps a data set until its template arrives, if the bounds leave
// room for it; it reports whether they did. The sets earlier files left
// (key set: their store key) and this file's own have bounds of their own,
// so that what earlier files left cannot take the room of a file whose
// data comes before its own template.
func (d *captureDecoder) park(ps netflow.ParkedSet, set []byte, source uint32, key []byte) bool {
	return d.parkAs(ps, set, source, key, false)
}

// parkAs is park; ready marks a set earlier files left whose template the
// store knows now, decoded before the file's first packet: such sets have
// a bound of their own, so that the sets that still wait cannot keep them
// from being taken up.
func (d *captureDecoder) parkAs(ps netflow.ParkedSet, set []byte, source uint32, key []byte, ready bool) bool {
	cost := len(set) + parkedOverhead
	n, b := d.parkedN-d.loadedN, d.parkedB-d.loadedB
	switch {
	case ready:
		n, b = d.readyN, d.readyB
	case key != nil:
		n, b = d.loadedN-d.readyN, d.loadedB-d.readyB
	}
	o := parkOrigin(key, ready)
	if c := d.perKey[ps.Key]; n >= maxParkedSets || b+cost > maxParkedBytes || (c != nil && c[o] >= maxParkedPerKey) {
		return false
	}
	if d.perKey == nil {
		d.perKey = map[netflow.TemplateKey]*[3]int{}
	}
	if d.perKey[ps.Key] == nil {
		d.perKey[ps.Key] = new([3]int)
	}
	d.perKey[ps.Key][o]++
	p := &parked{ps: ps, set: append([]byte(nil), set...), source: source, key: key, ready: ready}
	p.ps.Offset, p.ps.Length = 0, len(set)
	if key == nil {
		p.n = d.parkedSeq
		d.parkedSeq++
	}
	if d.parked == nil {
		d.parked = map[netflow.TemplateKey][]*parked{}
	}
	d.parked[ps.Key] = append(d.parked[ps.Key], p)
	d.parkedN++
	d.parkedB += cost
	if key != nil {
		d.loadedN++
		d.loadedB += cost
	}
	if ready {
		d.readyN++
		d.readyB += cost
	}
	return true
}

// parkOrRefuse parks a data set of this file, or rejects it when the
// bounds leave no room: as a set whose template never came.
func (d *captureDecoder) parkOrRefuse(ps netflow.ParkedSet, set []byte) {
	if d.park(ps, set, d.self, nil) {
		return
	}
	d.rejects[netflow.ErrUnknownTemplate.Error()]++
	if d.refused == 0 {
		d.example(fmt.Sprintf("packet %d: data set for template %d of %s domain %d: %s", ps.Number, ps.Key.ID,
			ps.Key.Exporter.Addr, ps.Key.Domain, refusedWhy))
	}
	d.refused++
}

var refusedWhy = fmt.Sprintf("no room left to wait for its template (at most %d data sets of a file wait, %d for one template, %d MiB in all)",
	maxParkedSets, maxParkedPerKey, maxParkedBytes>>20)

// refusedNote tells the user about the data sets that were rejected for
// want of room to wait, if any.
func (d *captureDecoder) refusedNote() string {
	if d.refused == 0 {
		return ""
	}
	return fmt.Sprintf("%d data sets rejected as %q: %s", d.refused, netflow.ErrUnknownTemplate.Error(), refusedWhy)
}

// retryParked decodes the parked sets whose template was just learned or
// changed (the cache's dirty keys), and those whose template was known
// when they were loaded. Only these templates' sets are looked at: a
// packet that learns a template costs its own sets, not every set that
// waits.
func (d *captureDecoder) retryParked() {
	keys, _ := d.dec.Templates.TakeDirty()
	if len(d.parkedReady) > 0 {
		keys = append(keys, d.parkedReady...)
		d.parkedReady = nil
	}
	for _, k := range keys {
		d.retryKey(k)
	}
}

// retryKey decodes the sets that wait for template k, if it is known.
func (d *captureDecoder) retryKey(k netflow.TemplateKey) {
	sets := d.parked[k]
	if len(sets) == 0 || d.dec.Templates.Get(k) == nil {
		return
	}
	kept := sets[:0]
	for _, p := range sets {
		d.retried++
		info, err := d.dec.DecodeParked(p.ps, p.set, d.emit(p.source))
		if errors.Is(err, netflow.ErrUnknownTemplate) {
			kept = append(kept, p)
			continue
		}
		d.countDecoded(&info) // its records' rejects, and a damaged set
		if p.source != d.self {
			d.earlierSets++
			d.earlierRecords += info.Records
		}
		d.parkedN--
		d.parkedB -= len(p.set) + parkedOverhead
		if p.key != nil {
			d.loadedN--
			d.loadedB -= len(p.set) + parkedOverhead
			d.resolved = append(d.resolved, p.key)
			d.stored--
			d.storedB -= len(p.set) + parkedOverhead
			d.storedKey[k]--
		}
		if p.ready {
			d.readyN--
			d.readyB -= len(p.set) + parkedOverhead
		}
		if c := d.perKey[k]; c != nil {
			c[parkOrigin(p.key, p.ready)]--
		}
	}
	clear(sets[len(kept):])
	if len(kept) == 0 {
		delete(d.parked, k)
	} else {
		d.parked[k] = kept
	}
}

// parkedHeader is the size of a parked set's header in the store.
const parkedHeader = 17 + 2 + 4 + 2 + 2 + 8 + 4 + 4 + 8 + 8

func marshalParked(ps *netflow.ParkedSet, set []byte) []byte {
	b := make([]byte, 0, parkedHeader+len(set))
	b = flow.AppendAddr17(b, ps.Key.Exporter.Addr)
	b = binary.BigEndian.AppendUint16(b, ps.Key.Exporter.Port)
	b = binary.BigEndian.AppendUint32(b, ps.Key.Domain)
	b = binary.BigEndian.AppendUint16(b, ps.Key.ID)
	b = binary.BigEndian.AppendUint16(b, ps.Key.Version)
	b = binary.BigEndian.AppendUint64(b, uint64(ps.ExportTime))
	b = binary.BigEndian.AppendUint32(b, ps.SysUptime)
	b = binary.BigEndian.AppendUint32(b, ps.Sequence)
	b = binary.BigEndian.AppendUint64(b, uint64(ps.CaptureTime))
	b = binary.BigEndian.AppendUint64(b, ps.Number)
	return append(b, set...)
}

func unmarshalParked(v []byte) (netflow.ParkedSet, []byte, error) {
	var ps netflow.ParkedSet
	if len(v) < parkedHeader {
		return ps, nil, fmt.Errorf("cannot read parked data set: %d bytes", len(v))
	}
	ps.Key.Exporter.Addr = flow.ReadAddr17(v[:17])
	p := v[17:]
	ps.Key.Exporter.Port = binary.BigEndian.Uint16(p)
	ps.Key.Domain = binary.BigEndian.Uint32(p[2:])
	ps.Key.ID = binary.BigEndian.Uint16(p[6:])
	ps.Key.Version = binary.BigEndian.Uint16(p[8:])
	ps.ExportTime = int64(binary.BigEndian.Uint64(p[10:]))
	ps.SysUptime = binary.BigEndian.Uint32(p[18:])
	ps.Sequence = binary.BigEndian.Uint32(p[22:])
	ps.CaptureTime = int64(binary.BigEndian.Uint64(p[26:]))
	ps.Number = binary.BigEndian.Uint64(p[34:])
	set := v[parkedHeader:]
	ps.Length = len(set)
	return ps, set, nil
}

// loadParked takes up the data sets earlier ingests left waiting (those of
// sources that completed; others are stale and removed at commit), within
// the bounds. A store written before there were bounds can hold more: the
// sets beyond them stay in the store, not taken up, and the scan ends
// once the count is reached.
func (d *captureDecoder) loadParked() error {
	complete := map[uint32]bool{}
	var stale [][]byte
	err := d.st.ScanAux(index.AuxKey(auxParked, nil), func(key, val []byte) bool {
		if len(key) != 10 {
			return true
		}
		src := binary.BigEndian.Uint32(key[2:])
		ok, seen := complete[src]
		if !seen {
			ok, _ = d.st.SourceComplete(src)
			complete[src] = ok
		}
		k := append([]byte(nil), key...)
		if !ok {
			stale = append(stale, k)
			return true
		}
		ps, set, err := unmarshalParked(val)
		if err != nil {
			stale = append(stale, k)
			return true
		}
		// Its template came without its being decoded (a store written
		// before the bounds, or sets past them, not taken up then): run
		// decodes it before the first packet.
		if d.storedKey == nil {
			d.storedKey = map[netflow.TemplateKey]int{}
		}
		d.stored++
		d.storedB += len(set) + parkedOverhead
		d.storedKey[ps.Key]++
		ready := d.dec != nil && d.dec.Templates.Get(ps.Key) != nil
		if !d.parkAs(ps, set, src, k, ready) {
			// Scan on while either bound has room.
			if d.loadedN-d.readyN < maxParkedSets || d.readyN < maxParkedSets {
				return true
			}
			d.storeFull = true
			return false
		}
		if ready && len(d.parked[ps.Key]) == 1 {
			d.parkedReady = append(d.parkedReady, ps.Key)
		}
		return true
	})
	d.resolved = append(d.resolved, stale...)
	return err
}

func parkedKey(source, n uint32) []byte {
	k := binary.BigEndian.AppendUint32(nil, source)
	return index.AuxKey(auxParked, binary.BigEndian.AppendUint32(k, n))
}

// waiting describes parked sets whose template never arrived.
type waiting struct {
	Exporter          string `json:"exporter"`
	Port              uint16 `json:"port"`
	ObservationDomain uint32 `json:"observation_domain"`
	TemplateID        uint16 `json:"template_id"`
	Sets              int    `json:"sets"`
	Bytes             int    `json:"bytes"`
}

// finishParked writes this file's unresolved sets to the store (they wait
// for a later ingest) and summarises those of this file. Sets that earlier
// files left waiting, still unresolved, are theirs: they were reported with
// them, and Summary.Waiting lists what waits after the run.
func (d *captureDecoder) finishParked() ([]waiting, map[string][]byte) {
	// The store keeps what earlier files left (less what this file
	// decoded) and then this file's own, in the order they came, within
	// the bounds loadParked takes sets up by (in number, for one template,
	// in bytes), so that a later file bringing their templates decodes
	// every set that waits; the rest of its own are rejected now.
	if d.storedKey == nil {
		d.storedKey = map[netflow.TemplateKey]int{}
	}
	put := map[string][]byte{}
	var own []*parked
	for _, sets := range d.parked {
		for _, p := range sets {
			if p.key == nil {
				own = append(own, p)
			}
		}
	}
	sort.Slice(own, func(i, j int) bool { return own[i].n < own[j].n })
	for _, p := range own {
		cost := len(p.set) + parkedOverhead
		if d.storeFull || d.stored >= maxParkedSets || d.storedB+cost > maxParkedBytes || d.storedKey[p.ps.Key] >= maxParkedPerKey {
			d.dropParked(p)
			continue
		}
		d.stored++
		d.storedB += cost
		d.storedKey[p.ps.Key]++
		p.key = parkedKey(p.source, p.n)
		put[string(p.key)] = marshalParked(&p.ps, p.set)
	}
	return summariseParked(d.parked, func(p *parked) bool { return p.source == d.self && p.key != nil }), put
}

// dropParked rejects one of this file's waiting sets that the store has no
// room to keep, as of an unknown template.
func (d *captureDecoder) dropParked(p *parked) {
	d.rejects[netflow.ErrUnknownTemplate.Error()]++
	d.unkept++
}

// parkOrigin indexes perKey: this file's sets, earlier files' still
// waiting, earlier files' whose template is known.
func parkOrigin(key []byte, ready bool) int {
	switch {
	case ready:
		return 2
	case key != nil:
		return 1
	}
	return 0
}

// summariseParked counts the parked sets that keep selects by exporter,
// domain and template, in that order.
func summariseParked(ps map[netflow.TemplateKey][]*parked, keep func(*parked) bool) []waiting {
	out := make([]waiting, 0, len(ps))
	for k, sets := range ps {
		w := waiting{Exporter: k.Exporter.Addr.String(), Port: k.Exporter.Port, ObservationDomain: k.Domain, TemplateID: k.ID}
		for _, p := range sets {
			if keep(p) {
				w.Sets++
				w.Bytes += p.ps.Length
			}
		}
		if w.Sets > 0 {
			out = append(out, w)
		}
	}
	sortWaiting(out)
	return out
}

// sortWaiting orders waiting sets by exporter, domain and template.
func sortWaiting(out []waiting) {
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Exporter != b.Exporter {
			return a.Exporter < b.Exporter
		}
		if a.ObservationDomain != b.ObservationDomain {
			return a.ObservationDomain < b.ObservationDomain
		}
		return a.TemplateID < b.TemplateID
	})
}

// writeAux writes keys through a batch.
func (d *captureDecoder) writeAux(kv map[string][]byte) error {
	if len(kv) == 0 {
		return nil
	}
	b, err := d.st.NewAuxBatch()
	if err != nil {
		return err
	}
	defer b.Cancel()
	for k, v := range kv {
		if err := b.Set([]byte(k), v); err != nil {
			return err
		}
	}
	return b.Flush()
}
