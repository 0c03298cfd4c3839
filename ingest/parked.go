package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/flowcase/flowcase/internal/flow"
	"sort"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/netflow"
)

// Auxiliary key kinds this package keeps in the store (docs/format/aux.md).
const (
	auxTemplates byte = 0x01 // 0x10 0x01                          -> template cache
	auxParked    byte = 0x02 // 0x10 0x02 source u32, n u32        -> parked data set
	auxSeen      byte = 0x03 // 0x10 0x03 exporter, version, domain, sequence, payload hash u64 -> source u32, payload hash u64 (read only: stores before chunks)
	auxSeenChunk byte = 0x04 // 0x10 0x04 exporter, version, domain, bucket u32, source u32, n u32 -> (sequence u32, payload hash u64)...
)

// parked is a data set that arrived before its template.
type parked struct {
	ps     netflow.ParkedSet
	set    []byte // nil when it waits in the store only
	source uint32
	key    []byte // its store key, when it has one
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

// park keeps a data set until its template arrives.
func (d *captureDecoder) park(ps netflow.ParkedSet, set []byte, source uint32, key []byte) {
	p := &parked{ps: ps, source: source, key: key}
	p.ps.Offset, p.ps.Length = 0, len(set)
	if d.parkedB+len(set) <= maxParkedBytes {
		p.set = append([]byte(nil), set...)
		d.parkedB += len(set)
	} else if key == nil {
		p.key = d.spill(p, set)
	}
	d.parked = append(d.parked, p)
}

// retryParked decodes the parked sets whose template is now known.
func (d *captureDecoder) retryParked() {
	kept := d.parked[:0]
	for _, p := range d.parked {
		if d.dec.Templates.Get(p.ps.Key) == nil {
			kept = append(kept, p)
			continue
		}
		set := p.set
		if set == nil {
			v, ok, err := d.st.GetAux(p.key)
			if err != nil || !ok {
				kept = append(kept, p)
				continue
			}
			set = v[parkedHeader:]
		}
		info, err := d.dec.DecodeParked(p.ps, set, d.emit(p.source))
		if errors.Is(err, netflow.ErrUnknownTemplate) {
			kept = append(kept, p)
			continue
		}
		d.countDecoded(&info) // its records' rejects, and a damaged set
		if p.source != d.self {
			d.earlierSets++
			d.earlierRecords += info.Records
		}
		d.parkedB -= len(p.set)
		if p.key != nil {
			d.resolved = append(d.resolved, p.key)
		}
	}
	clear(d.parked[len(kept):])
	d.parked = kept
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
// sources that completed; others are stale and removed at commit).
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
		d.park(ps, set, src, k)
		return true
	})
	d.resolved = append(d.resolved, stale...)
	return err
}

// spill writes a parked set to the store right away (memory is full).
func (d *captureDecoder) spill(p *parked, set []byte) []byte {
	d.spilled++
	key := parkedKey(d.self, uint32(len(d.parked))+d.spilled<<20)
	if b, err := d.st.NewAuxBatch(); err == nil {
		b.Set(key, marshalParked(&p.ps, set))
		if err := b.Flush(); err != nil {
			return nil
		}
	}
	return key
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
	put := map[string][]byte{}
	for i, p := range d.parked {
		if p.key == nil && p.set != nil {
			p.key = parkedKey(p.source, uint32(i))
			put[string(p.key)] = marshalParked(&p.ps, p.set)
		}
	}
	return summariseParked(d.parked, func(p *parked) bool { return p.source == d.self }), put
}

// summariseParked counts the parked sets that keep selects by exporter,
// domain and template, in that order.
func summariseParked(ps []*parked, keep func(*parked) bool) []waiting {
	by := map[netflow.TemplateKey]*waiting{}
	for _, p := range ps {
		if !keep(p) {
			continue
		}
		w := by[p.ps.Key]
		if w == nil {
			w = &waiting{Exporter: p.ps.Key.Exporter.Addr.String(), Port: p.ps.Key.Exporter.Port,
				ObservationDomain: p.ps.Key.Domain, TemplateID: p.ps.Key.ID}
			by[p.ps.Key] = w
		}
		w.Sets++
		w.Bytes += p.ps.Length
	}
	out := make([]waiting, 0, len(by))
	for _, w := range by {
		out = append(out, *w)
	}
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
	return out
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
