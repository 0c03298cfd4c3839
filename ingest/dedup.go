package ingest

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/netflow"
	"github.com/flowcase/flowcase/internal/flow"
)

// dedup recognises export packets already in the store (or earlier in the
// same file): same exporter, version, domain, sequence number and payload
// (hash), as when two captures overlap. Each decoded packet is remembered
// in the store with the source that decoded it, in chunks of packets of one
// exporter domain and sequence bucket (docs/format/aux.md); an entry whose
// source never completed is ignored, so a killed ingest cannot hide packets
// from its re-run. Stores written before the chunks have one key per
// packet, which are still read.
type dedup struct {
	st       *index.Store
	self     uint32
	recent   map[packetID]struct{}         // this run's packets
	domains  map[domainID]domainSeen       // what the store holds per exporter domain
	loaded   map[bucketID]map[seqHash]bool // store entries of complete sources, by bucket
	nLoaded  int                           // entries in loaded
	pending  map[bucketID][]byte           // this run's entries not yet in the batch
	nPend    int                           // bytes in pending
	chunks   uint32                        // chunk keys written by this run
	complete map[uint32]bool
	batch    *index.AuxBatch
	err      error
}

// domainID is an exporter domain as the keys spell it: exporter (17
// bytes), UDP port, version and observation domain.
type domainID [domainIDLen]byte

const domainIDLen = flow.Addr17Len + 2 + 2 + 4

// packetID identifies an export packet.
type packetID struct {
	domain domainID
	seqHash
}

type seqHash struct {
	seq  uint32
	hash uint64 // xxHash64 of the payload
}

// bucketID is a chunk's exporter domain and sequence bucket.
type bucketID struct {
	domain domainID
	bucket uint32
}

// domainSeen says which kinds of keys the store has for a domain.
type domainSeen struct{ packets, chunks bool }

const (
	// seqBucketShift groups sequence numbers into buckets of 4096: a
	// chunk holds entries of one bucket, so a lookup reads one bucket.
	seqBucketShift = 12
	// seenEntryLen is one chunk entry: sequence u32, payload hash u64.
	seenEntryLen = 4 + 8
	// maxChunkEntries bounds a chunk value (48 KiB).
	maxChunkEntries = 1 << seqBucketShift
	// maxPendingBytes bounds this run's entries held before they go to the
	// batch; maxLoadedEntries the store entries held for lookups.
	maxPendingBytes  = 16 << 20
	maxLoadedEntries = 1 << 21
)

func newDedup(st *index.Store) *dedup {
	return &dedup{st: st, recent: map[packetID]struct{}{}, domains: map[domainID]domainSeen{},
		loaded: map[bucketID]map[seqHash]bool{}, pending: map[bucketID][]byte{}, complete: map[uint32]bool{}}
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
	case netflow.VersionSFlow5:
		return netflow.SFlowIDs(p)
	}
	return 0, 0, false
}

// packetIDOf returns the packet's identity (exporter, version, domain,
// sequence, payload hash h); ok is false when the header is too short. The
// hash is part of it: an IPFIX template message and the data message after
// it carry the same sequence number (data records sent before).
func packetIDOf(exp netflow.Exporter, version uint16, p []byte, h uint64) (id packetID, ok bool) {
	domain, seq, ok := headerIDs(version, p)
	if !ok {
		return id, false
	}
	b := flow.AppendAddr17(id.domain[:0], exp.Addr)
	b = binary.BigEndian.AppendUint16(b, exp.Port)
	b = binary.BigEndian.AppendUint16(b, version)
	binary.BigEndian.AppendUint32(b, domain)
	id.seq, id.hash = seq, h
	return id, true
}

func (id *packetID) bucket() bucketID { return bucketID{id.domain, id.seq >> seqBucketShift} }

// packetKey is the key of one packet in stores written before the chunks.
func packetKey(id *packetID) []byte {
	k := make([]byte, 0, domainIDLen+4+8)
	k = append(k, id.domain[:]...)
	k = binary.BigEndian.AppendUint32(k, id.seq)
	return index.AuxKey(auxSeen, binary.BigEndian.AppendUint64(k, id.hash))
}

// chunkPrefix is the key prefix of a bucket's chunks (the whole domain's
// when whole).
func chunkPrefix(b bucketID, whole bool) []byte {
	k := make([]byte, 0, domainIDLen+4+4+4)
	k = append(k, b.domain[:]...)
	if !whole {
		k = binary.BigEndian.AppendUint32(k, b.bucket)
	}
	return index.AuxKey(auxSeenChunk, k)
}

// seen reports whether this export packet was already decoded; id (ok
// false: the header is too short to have one) is for record.
func (dd *dedup) seen(exp netflow.Exporter, version uint16, payload []byte) (dup bool, id packetID, ok bool) {
	h := payloadHash(payload)
	if id, ok = packetIDOf(exp, version, payload, h); !ok {
		return false, id, false
	}
	if _, in := dd.recent[id]; in {
		return true, id, true
	}
	return dd.inStoreSeen(&id), id, true
}

func (dd *dedup) inStoreSeen(id *packetID) bool {
	ds, known := dd.domains[id.domain]
	if !known {
		dd.st.ScanAux(index.AuxKey(auxSeen, id.domain[:]), func(k, v []byte) bool { ds.packets = true; return false })
		dd.st.ScanAux(chunkPrefix(bucketID{domain: id.domain}, true), func(k, v []byte) bool { ds.chunks = true; return false })
		dd.domains[id.domain] = ds
	}
	return (ds.chunks && dd.inChunks(id)) || (ds.packets && dd.inPackets(id))
}

// inChunks looks the packet up in the chunks of its bucket.
func (dd *dedup) inChunks(id *packetID) bool {
	b := id.bucket()
	set, ok := dd.loaded[b]
	if !ok {
		set = dd.loadBucket(b)
	}
	return set[id.seqHash]
}

// loadBucket reads the entries of a bucket's chunks whose source is
// complete.
func (dd *dedup) loadBucket(b bucketID) map[seqHash]bool {
	if dd.nLoaded > maxLoadedEntries {
		clear(dd.loaded)
		dd.nLoaded = 0
	}
	set := map[seqHash]bool{}
	prefix := chunkPrefix(b, false)
	dd.st.ScanAux(prefix, func(k, v []byte) bool {
		if len(k) != len(prefix)+8 || !dd.sourceComplete(binary.BigEndian.Uint32(k[len(prefix):])) {
			return true
		}
		for ; len(v) >= seenEntryLen; v = v[seenEntryLen:] {
			set[seqHash{binary.BigEndian.Uint32(v), binary.BigEndian.Uint64(v[4:])}] = true
		}
		return true
	})
	dd.loaded[b] = set
	dd.nLoaded += len(set)
	return set
}

// inPackets looks the packet up among the one-key-per-packet entries.
func (dd *dedup) inPackets(id *packetID) bool {
	v, ok, err := dd.st.GetAux(packetKey(id))
	if err != nil || !ok || len(v) != 4+8 {
		return false
	}
	return dd.sourceComplete(binary.BigEndian.Uint32(v)) && binary.BigEndian.Uint64(v[4:]) == id.hash
}

func (dd *dedup) sourceComplete(src uint32) bool {
	done, known := dd.complete[src]
	if !known {
		done, _ = dd.st.SourceComplete(src)
		dd.complete[src] = done
	}
	return done
}

// bucketOverhead is what a pending bucket costs beyond its entries: its
// map entry and slice header, counted against maxPendingBytes.
const bucketOverhead = 96

// record notes a decoded export packet (its id from seen), in memory and in
// the store.
func (dd *dedup) record(id *packetID) {
	if dd.err != nil {
		return
	}
	if len(dd.recent) > 1<<20 {
		clear(dd.recent)
	}
	dd.recent[*id] = struct{}{}
	b := id.bucket()
	v := dd.pending[b]
	if v == nil {
		// Small at first: a capture of many domains (their ids are the
		// sender's choice) has as many buckets, most of one packet.
		v = make([]byte, 0, 2*seenEntryLen)
		dd.nPend += bucketOverhead
	}
	v = binary.BigEndian.AppendUint32(v, id.seq)
	v = binary.BigEndian.AppendUint64(v, id.hash)
	dd.pending[b] = v
	dd.nPend += seenEntryLen
	switch {
	case len(v) >= maxChunkEntries*seenEntryLen:
		dd.writeChunk(b, v)
	case dd.nPend >= maxPendingBytes:
		dd.writePending()
	}
}

// writeChunk hands one bucket's pending entries to the batch.
func (dd *dedup) writeChunk(b bucketID, v []byte) {
	delete(dd.pending, b)
	dd.nPend -= len(v) + bucketOverhead
	if dd.err != nil {
		return
	}
	if dd.batch == nil {
		if dd.batch, dd.err = dd.st.NewAuxBatch(); dd.err != nil {
			return
		}
	}
	k := binary.BigEndian.AppendUint32(chunkPrefix(b, false), dd.self)
	k = binary.BigEndian.AppendUint32(k, dd.chunks)
	dd.chunks++
	dd.err = dd.batch.Set(k, v)
}

// writePending hands every pending entry to the batch, in key order (so
// that the same capture makes the same keys).
func (dd *dedup) writePending() {
	bs := make([]bucketID, 0, len(dd.pending))
	for b := range dd.pending {
		bs = append(bs, b)
	}
	slices.SortFunc(bs, func(a, b bucketID) int {
		if c := bytes.Compare(a.domain[:], b.domain[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.bucket, b.bucket)
	})
	for _, b := range bs {
		dd.writeChunk(b, dd.pending[b])
	}
}

// flush writes the entries of this run; called before the source commits.
func (dd *dedup) flush() error {
	dd.writePending()
	if dd.batch == nil || dd.err != nil {
		return dd.err
	}
	return dd.batch.Flush()
}
