package ingest

import (
	"encoding/binary"
	"github.com/flowcase/flowcase/internal/flow"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/netflow"
)

// dedup recognises export packets already in the store (or earlier in the
// same file): same exporter, version, domain, sequence number and payload
// (hash), as when two captures overlap. Each decoded packet leaves a key in the
// store naming its source; a key whose source never completed is ignored,
// so a killed ingest cannot hide packets from its re-run.
type dedup struct {
	st       *index.Store
	self     uint32
	recent   map[string]uint64 // this run: key -> payload hash
	inStore  map[string]bool   // per exporter/version/domain prefix: has the store any key?
	complete map[uint32]bool
	batch    *index.AuxBatch
	err      error
}

func newDedup(st *index.Store) *dedup {
	return &dedup{st: st, recent: map[string]uint64{}, inStore: map[string]bool{}, complete: map[uint32]bool{}}
}

// headerIDs returns the observation domain and sequence number of an
// export header; ok is false when the header is too short.
func headerIDs(version uint16, p []byte) (domain, seq uint32, ok bool) {
	switch version {
	case 5:
		if len(p) < 24 {
			return 0, 0, false
		}
		return uint32(binary.BigEndian.Uint16(p[20:])), binary.BigEndian.Uint32(p[16:]), true
	case 9:
		if len(p) < 20 {
			return 0, 0, false
		}
		return binary.BigEndian.Uint32(p[16:]), binary.BigEndian.Uint32(p[12:]), true
	case 10:
		if len(p) < 16 {
			return 0, 0, false
		}
		return binary.BigEndian.Uint32(p[12:]), binary.BigEndian.Uint32(p[8:]), true
	}
	return 0, 0, false
}

// headerKey returns the packet's identity (exporter, version, domain,
// sequence, payload hash h), or nil when the header is too short. The hash
// is part of the key: an IPFIX template message and the data message after
// it carry the same sequence number (data records sent before).
func headerKey(exp netflow.Exporter, version uint16, p []byte, h uint64) []byte {
	domain, seq, ok := headerIDs(version, p)
	if !ok {
		return nil
	}
	k := flow.AppendAddr17(make([]byte, 0, 2+17+2+2+4+4+8), exp.Addr)
	k = binary.BigEndian.AppendUint16(k, exp.Port)
	k = binary.BigEndian.AppendUint16(k, version)
	k = binary.BigEndian.AppendUint32(k, domain)
	k = binary.BigEndian.AppendUint32(k, seq)
	k = binary.BigEndian.AppendUint64(k, h)
	return index.AuxKey(auxSeen, k)
}

// seen reports whether this export packet was already decoded; key and
// hash are for record.
func (dd *dedup) seen(exp netflow.Exporter, version uint16, payload []byte) (dup bool, key []byte, h uint64) {
	h = payloadHash(payload)
	key = headerKey(exp, version, payload, h)
	if key == nil {
		return false, nil, h
	}
	if prev, ok := dd.recent[string(key)]; ok {
		return prev == h, key, h
	}
	return dd.inStoreSeen(key, h), key, h
}

func (dd *dedup) inStoreSeen(key []byte, h uint64) bool {
	prefix := string(key[:len(key)-12])
	has, known := dd.inStore[prefix]
	if !known {
		dd.st.ScanAux([]byte(prefix), func(k, v []byte) bool { has = true; return false })
		dd.inStore[prefix] = has
	}
	if !has {
		return false
	}
	v, ok, err := dd.st.GetAux(key)
	if err != nil || !ok || len(v) != 12 {
		return false
	}
	src := binary.BigEndian.Uint32(v)
	done, known := dd.complete[src]
	if !known {
		done, _ = dd.st.SourceComplete(src)
		dd.complete[src] = done
	}
	return done && binary.BigEndian.Uint64(v[4:]) == h
}

// record notes a decoded export packet (its key and hash from seen), in
// memory and in the store.
func (dd *dedup) record(key []byte, h uint64) {
	if key == nil || dd.err != nil {
		return
	}
	if len(dd.recent) > 1<<20 {
		clear(dd.recent)
	}
	dd.recent[string(key)] = h
	if dd.batch == nil {
		if dd.batch, dd.err = dd.st.NewAuxBatch(); dd.err != nil {
			return
		}
	}
	v := binary.BigEndian.AppendUint32(make([]byte, 0, 12), dd.self)
	dd.err = dd.batch.Set(key, binary.BigEndian.AppendUint64(v, h))
}

// flush writes the keys of this run; called before the source commits.
func (dd *dedup) flush() error {
	if dd.batch == nil || dd.err != nil {
		return dd.err
	}
	return dd.batch.Flush()
}
