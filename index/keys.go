package index

import "encoding/binary"

// Key namespaces: the first byte of every Badger key. Fixed-width
// big-endian parts follow, so Badger's byte order is the order that matters
// (time, then segment id). docs/format/keys.md has the byte layouts.
const (
	nsMeta     byte = 0x01 // 0x01 name                       -> store metadata value (meta.go)
	nsSource   byte = 0x02 // 0x02 source id u32              -> source record (JSON)
	nsSourceBy byte = 0x03 // 0x03 sha256 [32]                -> source id u32
	nsManifest byte = 0x04 // 0x04 partition u64, segment u64 -> segment manifest (manifest.go)
	nsBlock    byte = 0x05 // 0x05 segment u64, block u32     -> column block (block.go)
	nsPostings byte = 0x06 // 0x06 segment u64, field u8      -> postings of one field (postings.go)
	nsSegment  byte = 0x07 // 0x07 segment u64                -> partition u64, owner u32 (segment locator)
	nsStatus   byte = 0x08 // 0x08 source id u32              -> source status u8 (format 5 on)
	nsAux      byte = 0x10 // 0x10 kind u8, ...               -> auxiliary state owned by ingest (templates, parked data, exporters)
)

func metaKey(name string) []byte {
	return append([]byte{nsMeta}, name...)
}

func sourceKey(id uint32) []byte {
	k := make([]byte, 5)
	k[0] = nsSource
	binary.BigEndian.PutUint32(k[1:], id)
	return k
}

func statusKey(id uint32) []byte {
	k := sourceKey(id)
	k[0] = nsStatus
	return k
}

func sourceByKey(sha [32]byte) []byte {
	return append([]byte{nsSourceBy}, sha[:]...)
}

// partitionStart is the partition's first instant, unix ns, stored as u64
// after adding 1<<63 so that times before 1970 still sort first.
func encodeTime(t int64) uint64 { return uint64(t) ^ (1 << 63) }
func decodeTime(u uint64) int64 { return int64(u ^ (1 << 63)) }

func manifestKey(partition int64, seg uint64) []byte {
	k := make([]byte, 17)
	k[0] = nsManifest
	binary.BigEndian.PutUint64(k[1:], encodeTime(partition))
	binary.BigEndian.PutUint64(k[9:], seg)
	return k
}

func manifestPrefix(partition int64) []byte {
	k := make([]byte, 9)
	k[0] = nsManifest
	binary.BigEndian.PutUint64(k[1:], encodeTime(partition))
	return k
}

func blockKey(seg uint64, block uint32) []byte {
	k := make([]byte, 13)
	k[0] = nsBlock
	binary.BigEndian.PutUint64(k[1:], seg)
	binary.BigEndian.PutUint32(k[9:], block)
	return k
}

func postingsKey(seg uint64, f Field) []byte {
	k := make([]byte, 10)
	k[0] = nsPostings
	binary.BigEndian.PutUint64(k[1:], seg)
	k[9] = byte(f)
	return k
}

func segmentKey(seg uint64) []byte {
	k := make([]byte, 9)
	k[0] = nsSegment
	binary.BigEndian.PutUint64(k[1:], seg)
	return k
}

// segPrefix returns the prefix of all keys of one segment in namespace ns
// (blocks or postings).
func segPrefix(ns byte, seg uint64) []byte {
	k := make([]byte, 9)
	k[0] = ns
	binary.BigEndian.PutUint64(k[1:], seg)
	return k
}

// AuxKey builds a key in the auxiliary namespace for state that the ingest
// layer owns (NetFlow templates, parked data sets, exporter statistics).
func AuxKey(kind byte, rest []byte) []byte {
	k := make([]byte, 0, 2+len(rest))
	k = append(k, nsAux, kind)
	return append(k, rest...)
}
