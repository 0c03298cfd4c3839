// Package nfcapd reads the flow files nfdump's collectors write (nfcapd,
// sfcapd, nfpcapd: "nfcapd.YYYYMMDDhhmm"), in the file layout of nfdump 1.7
// and later (layout 2, V3 records), uncompressed or with each data block
// compressed by LZ4, bzip2 or LZO.
//
// A file is a 40-byte header, then data blocks. A block is a 12-byte header
// (records, size, type, flags) and its records, compressed as the header
// says unless the block's flag says otherwise. A V3 record (type 11) is a
// 12-byte header and typed elements, each with its length: the generic flow
// (times in ms, counters, ports, protocol, flags), IPv4 or IPv6 addresses,
// interfaces and direction, reverse counters, VLAN, AS numbers, next hops,
// the exporter's address as received, and firewall translations. Elements
// flowcase does not use are skipped by their length, so files of later
// nfdump versions with more elements still read. Numbers are in the byte
// order of the machine that wrote the file (the header's magic says which;
// flowcase reads little-endian files, which every x86 and ARM collector
// writes).
package nfcapd

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/pierrec/lz4/v4"
)

// File layout constants.
const (
	magic        = 0xA50C
	layout2      = 2
	headerSize   = 40
	blockHeader  = 12
	blockType3   = 3
	flagRaw      = 0x1 // this block is not compressed, whatever the file says
	recordV3     = 11
	v3HeaderSize = 12
	// MaxBlock is the largest block flowcase reads, compressed or not;
	// nfdump writes blocks of at most 5 MiB.
	MaxBlock = 16 << 20
)

// Compression methods of the file header.
const (
	compressNone = 0
	compressLZO  = 1
	compressBZ2  = 2
	compressLZ4  = 3
	compressZSTD = 4
)

// Reasons records are rejected (the keys of Rejects).
const (
	ReasonBadRecord   = "bad nfcapd record" // a record or element whose length runs past its block or record
	ReasonBadBlock    = "bad nfcapd block"  // a block that does not decompress, or whose records do not add up
	ReasonNoAddresses = "record without addresses"
	ReasonBadTime     = "time out of range"                 // milliseconds past what int64 nanoseconds hold (2262): they would wrap to any year
	ReasonNoGeneric   = "record without times and counters" // no generic element
)

// ErrNotNfcapd is returned (wrapped) for content that is not an nfdump file
// flowcase can read.
var ErrNotNfcapd = errors.New("not an nfdump file flowcase reads")

// Sniff reports whether head starts like an nfdump file (either layout).
func Sniff(head []byte) bool {
	return len(head) >= 4 && binary.LittleEndian.Uint16(head) == magic &&
		(binary.LittleEndian.Uint16(head[2:]) == layout2 || binary.LittleEndian.Uint16(head[2:]) == 1)
}

// Header is what the file header says.
type Header struct {
	NfdumpVersion uint32 // e.g. 0x01070100 for 1.7.1
	Created       int64  // unix seconds
	Compression   uint8
	Blocks        uint32
}

// CompressionName names the file's block compression.
func (h Header) CompressionName() string {
	switch h.Compression {
	case compressNone:
		return "uncompressed"
	case compressLZO:
		return "LZO"
	case compressBZ2:
		return "bzip2"
	case compressLZ4:
		return "LZ4"
	}
	return fmt.Sprintf("compression %d", h.Compression)
}

// Reader reads the flow records of one nfdump file.
type Reader struct {
	r       *bufio.Reader
	Header  Header
	offset  int64  // file offset of the next block
	block   []byte // the current block's records (raw, or dec)
	raw     []byte // the block as read
	dec     []byte // the block decompressed
	head    [blockHeader]byte
	pos     int
	left    uint32 // records the current block still holds
	rejects map[string]int
	err     error
	done    bool
	// Exporters counts records by the exporter address they were received
	// from, complete once Next has returned false.
	Exporters map[netip.Addr]uint64
	// lastExp and lastN count the run of records from one exporter, added
	// to Exporters when another comes (a map update per record took 40% of
	// the reading).
	lastExp netip.Addr
	lastN   uint64
	// Examples says where the first rejects were and why: "block at offset
	// N: ..." (at most MaxExamples).
	Examples []string
	blockAt  int64 // file offset of the current block
}

// MaxExamples bounds Reader.Examples.
const MaxExamples = 20

// example keeps a reject's place and reason, for the first MaxExamples.
func (r *Reader) example(format string, args ...any) {
	if len(r.Examples) < MaxExamples {
		r.Examples = append(r.Examples, fmt.Sprintf("block at offset %d: ", r.blockAt)+fmt.Sprintf(format, args...))
	}
}

// NewReader reads the file header.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	h := make([]byte, headerSize)
	if _, err := io.ReadFull(br, h); err != nil {
		return nil, fmt.Errorf("%w: file header: %v", ErrNotNfcapd, err)
	}
	le := binary.LittleEndian
	switch {
	case binary.BigEndian.Uint16(h) == magic:
		return nil, fmt.Errorf("%w: written by a big-endian machine", ErrNotNfcapd)
	case le.Uint16(h) != magic:
		return nil, fmt.Errorf("%w: magic %#04x", ErrNotNfcapd, le.Uint16(h))
	case le.Uint16(h[2:]) == 1:
		return nil, fmt.Errorf("%w: layout 1 (nfdump 1.6 and earlier); convert it with nfdump 1.7: nfdump -r FILE -w NEWFILE", ErrNotNfcapd)
	case le.Uint16(h[2:]) != layout2:
		return nil, fmt.Errorf("%w: layout %d", ErrNotNfcapd, le.Uint16(h[2:]))
	}
	rd := &Reader{r: br, offset: headerSize, rejects: map[string]int{}, Exporters: map[netip.Addr]uint64{}}
	rd.Header = Header{NfdumpVersion: le.Uint32(h[4:]), Created: int64(le.Uint64(h[8:])), Compression: h[16], Blocks: le.Uint32(h[36:])}
	switch rd.Header.Compression {
	case compressNone, compressLZ4, compressBZ2, compressLZO:
	case compressZSTD:
		return nil, fmt.Errorf("%w: ZSTD-compressed blocks; convert the file with nfdump -J 0 -r FILE", ErrNotNfcapd)
	default:
		return nil, fmt.Errorf("%w: compression %d", ErrNotNfcapd, rd.Header.Compression)
	}
	if h[17] != 0 {
		return nil, fmt.Errorf("%w: encrypted", ErrNotNfcapd)
	}
	return rd, nil
}

// Err returns what stopped the reader early: the file cannot be followed
// past a damaged block header, or it could not be read. Records of blocks
// before it were returned.
func (r *Reader) Err() error { return r.err }

// Rejects counts records not returned, by reason.
func (r *Reader) Rejects() map[string]int { return r.rejects }

// Assumed is 0: every record has its times.
func (r *Reader) Assumed() int { return 0 }

// Next fills rec with the next flow record; false at the end (or at an
// error, see Err).
func (r *Reader) Next(rec *flow.Record) bool {
	for !r.done {
		if r.left == 0 || r.pos >= len(r.block) {
			if r.left > 0 {
				r.rejects[ReasonBadBlock] += int(r.left) // the block ended before its records did
				r.example("%d records beyond the end of its data", r.left)
				r.left = 0
			}
			if !r.nextBlock() {
				r.done = true
				r.countExporter(netip.Addr{})
				return false
			}
			continue
		}
		r.left--
		b := r.block[r.pos:]
		if len(b) < 4 {
			r.example("record at byte %d of the block cut short (%d bytes)", r.pos, len(b))
			r.rejectRest(ReasonBadRecord)
			continue
		}
		typ, size := binary.LittleEndian.Uint16(b), int(binary.LittleEndian.Uint16(b[2:]))
		if size < 4 || size > len(b) {
			r.example("record at byte %d of the block has size %d (%d bytes left); the block's %d other records are lost", r.pos, size, len(b), r.left)
			r.rejectRest(ReasonBadRecord) // the next record cannot be found
			continue
		}
		r.pos += size
		if typ != recordV3 {
			continue // exporter, sampler and statistics records, ident: not flows
		}
		if reason := r.v3(b[:size], rec); reason != "" {
			r.rejects[reason]++
			if len(r.Examples) < MaxExamples { // no formatting's arguments made per reject beyond
				r.example("record at byte %d of the block: %s", r.pos-size, reason)
			}
			continue
		}
		return true
	}
	return false
}

// rejectRest gives up on the current block: its remaining records (this
// one included) are counted.
func (r *Reader) rejectRest(reason string) {
	r.rejects[reason] += int(r.left) + 1
	r.left, r.pos = 0, len(r.block)
}

// nextBlock reads and decompresses the next data block.
func (r *Reader) nextBlock() bool {
	for {
		h := r.head[:]
		n, err := io.ReadFull(r.r, h)
		switch {
		case err == io.EOF:
			return false
		case err != nil:
			r.err = fmt.Errorf("offset %d: block header cut short (%d of %d bytes)", r.offset, n, blockHeader)
			return false
		}
		le := binary.LittleEndian
		records, size, typ, flags := le.Uint32(h), le.Uint32(h[4:]), le.Uint16(h[8:]), le.Uint16(h[10:])
		r.blockAt = r.offset
		if size > MaxBlock {
			r.err = fmt.Errorf("offset %d: block of %d bytes, more than %d", r.offset, size, MaxBlock)
			return false
		}
		// Read as it comes, not into a buffer of the size the header
		// claims: a file of a few bytes that claims a 16 MB block does not
		// take 16 MB.
		buf := bytes.NewBuffer(r.raw[:0])
		got, err := buf.ReadFrom(io.LimitReader(r.r, int64(size)))
		r.raw = buf.Bytes()
		raw := r.raw
		if err != nil || got < int64(size) {
			r.err = fmt.Errorf("offset %d: block of %d bytes cut short at %d", r.offset, size, got)
			if records > 0 {
				r.rejects[ReasonBadBlock] += int(records)
			}
			return false
		}
		r.offset += blockHeader + int64(size)
		if typ != blockType3 {
			continue // array blocks (type 4) hold names, not flows
		}
		data, err := r.decompress(raw, flags)
		if err != nil {
			r.rejects[ReasonBadBlock] += int(records)
			r.example("%d records lost: %s block does not decompress: %v", records, r.Header.CompressionName(), err)
			continue
		}
		r.block, r.pos, r.left = data, 0, records
		return true
	}
}

// decompress returns the records of a block, in r.dec unless the block is
// stored as it is.
func (r *Reader) decompress(raw []byte, flags uint16) ([]byte, error) {
	if flags&flagRaw != 0 || r.Header.Compression == compressNone {
		return raw, nil
	}
	switch r.Header.Compression {
	case compressLZ4:
		// The block does not say how large it was: start at 4 times the
		// compressed size (or the room a block before needed) and grow up
		// to MaxBlock.
		for n := min(max(cap(r.dec), 4*len(raw)+64<<10), MaxBlock); ; n = min(2*n, MaxBlock) {
			if cap(r.dec) < n {
				r.dec = make([]byte, n)
			}
			m, err := lz4.UncompressBlock(raw, r.dec[:n])
			if err == nil {
				return r.dec[:m], nil
			}
			if n == MaxBlock {
				return nil, err
			}
		}
	case compressBZ2:
		out := bytes.NewBuffer(r.dec[:0])
		if _, err := io.Copy(out, io.LimitReader(bzip2.NewReader(bytes.NewReader(raw)), MaxBlock+1)); err != nil {
			return nil, err
		}
		if out.Len() > MaxBlock {
			return nil, fmt.Errorf("block larger than %d bytes decompressed", MaxBlock)
		}
		r.dec = out.Bytes()
		return r.dec, nil
	case compressLZO:
		out, err := lzo1xDecompress(raw, r.dec[:0], MaxBlock)
		if err != nil {
			return nil, err
		}
		r.dec = out
		return out, nil
	}
	return nil, fmt.Errorf("compression %d", r.Header.Compression)
}

// Element types of V3 records flowcase reads.
const (
	exGeneric    = 1
	exIPv4       = 2
	exIPv6       = 3
	exMisc       = 4
	exCounters   = 5
	exVLAN       = 6
	exAS         = 7
	exBGPHop4    = 8
	exBGPHop6    = 9
	exIPHop4     = 10
	exIPHop6     = 11
	exReceived4  = 12
	exReceived6  = 13
	exNATv4      = 20
	exNATv6      = 21
	exNATPorts   = 22
	genericSize  = 48 // msecFirst, msecLast, msecReceived, inPackets, inBytes (u64), ports (u16), proto, flags, fwdStatus, tos
	minMiscSize  = 12 // input, output (u32), masks, direction, dstTos
	countersSize = 24 // flows, outPackets, outBytes
)

// v3 decodes one V3 record (b holds it whole); it returns a reject reason.
func (r *Reader) v3(b []byte, rec *flow.Record) string {
	if len(b) < v3HeaderSize {
		return ReasonBadRecord
	}
	*rec = flow.Record{SamplingInterval: 1}
	le := binary.LittleEndian
	var hasGeneric, ipHop bool
	var rawDst uint16
	for e := b[v3HeaderSize:]; len(e) > 0; {
		if len(e) < 4 {
			return ReasonBadRecord
		}
		typ, length := le.Uint16(e), int(le.Uint16(e[2:]))
		if length < 4 || length > len(e) {
			return ReasonBadRecord
		}
		v := e[4:length]
		e = e[length:]
		switch typ {
		case exGeneric:
			if len(v) < genericSize {
				return ReasonBadRecord
			}
			hasGeneric = true
			first, last := le.Uint64(v), le.Uint64(v[8:])
			if first > math.MaxInt64/1_000_000 || last > math.MaxInt64/1_000_000 {
				return ReasonBadTime
			}
			rec.Start, rec.End = int64(first)*1e6, int64(last)*1e6
			rec.Packets, rec.Bytes = le.Uint64(v[24:]), le.Uint64(v[32:])
			rec.SrcPort, rawDst = le.Uint16(v[40:]), le.Uint16(v[42:])
			rec.Proto, rec.TCPFlags = v[44], v[45]
		case exIPv4:
			if len(v) < 8 {
				return ReasonBadRecord
			}
			rec.SrcAddr, rec.DstAddr = addr4(v), addr4(v[4:])
		case exIPv6:
			if len(v) < 32 {
				return ReasonBadRecord
			}
			rec.SrcAddr, rec.DstAddr = addr6(v), addr6(v[16:])
		case exMisc:
			if len(v) < minMiscSize {
				return ReasonBadRecord
			}
			rec.InIf, rec.OutIf = le.Uint32(v), le.Uint32(v[4:])
			switch v[10] { // nfdump: 0 ingress, 1 egress
			case 0:
				rec.Dir = flow.DirIngress
			case 1:
				rec.Dir = flow.DirEgress
			}
		case exCounters:
			if len(v) < countersSize {
				return ReasonBadRecord
			}
			rec.RevPackets, rec.RevBytes = le.Uint64(v[8:]), le.Uint64(v[16:])
		case exVLAN:
			if len(v) >= 4 {
				rec.VLAN = uint16(le.Uint32(v))
			}
		case exAS:
			if len(v) >= 8 {
				rec.SrcAS, rec.DstAS = le.Uint32(v), le.Uint32(v[4:])
			}
		case exIPHop4, exIPHop6, exBGPHop4, exBGPHop6:
			ip := typ == exIPHop4 || typ == exIPHop6
			if ipHop && !ip { // the IP next hop wins over the BGP one
				continue
			}
			if a, ok := addrOf(typ == exIPHop4 || typ == exBGPHop4, v); ok {
				rec.NextHop, ipHop = a, ip
			}
		case exReceived4, exReceived6:
			if a, ok := addrOf(typ == exReceived4, v); ok {
				rec.Exporter = a
			}
		case exNATv4:
			if len(v) >= 8 {
				rec.NATSrcAddr, rec.NATDstAddr = addr4(v), addr4(v[4:])
			}
		case exNATv6:
			if len(v) >= 32 {
				rec.NATSrcAddr, rec.NATDstAddr = addr6(v), addr6(v[16:])
			}
		case exNATPorts:
			if len(v) >= 4 {
				rec.NATSrcPort, rec.NATDstPort = le.Uint16(v), le.Uint16(v[2:])
			}
		}
	}
	switch {
	case !hasGeneric:
		return ReasonNoGeneric
	case !rec.SrcAddr.IsValid() || !rec.DstAddr.IsValid():
		return ReasonNoAddresses
	}
	if flow.IsICMP(rec.Proto) {
		// nfdump keeps ICMP's type and code where the destination port
		// goes, as NetFlow v5 does: type*256 + code.
		rec.ICMPType, rec.ICMPCode = uint8(rawDst>>8), uint8(rawDst)
	} else {
		rec.DstPort = rawDst
	}
	if rec.End < rec.Start {
		rec.End = rec.Start
	}
	if rec.Exporter.IsValid() {
		if rec.Exporter != r.lastExp {
			r.countExporter(rec.Exporter)
		}
		r.lastN++
	}
	return ""
}

// countExporter adds the run of records from lastExp to Exporters and
// starts one from next.
func (r *Reader) countExporter(next netip.Addr) {
	if r.lastN > 0 {
		r.Exporters[r.lastExp] += r.lastN
	}
	r.lastExp, r.lastN = next, 0
}

// addr4 reads an IPv4 address nfdump stored as a host-order 32-bit number.
func addr4(b []byte) netip.Addr {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], binary.LittleEndian.Uint32(b))
	return netip.AddrFrom4(a)
}

// addr6 reads an IPv6 address nfdump stored as two host-order 64-bit
// numbers, high half first.
func addr6(b []byte) netip.Addr {
	var a [16]byte
	binary.BigEndian.PutUint64(a[:], binary.LittleEndian.Uint64(b))
	binary.BigEndian.PutUint64(a[8:], binary.LittleEndian.Uint64(b[8:]))
	return netip.AddrFrom16(a).Unmap()
}

func addrOf(v4 bool, v []byte) (netip.Addr, bool) {
	switch {
	case v4 && len(v) >= 4:
		return addr4(v), true
	case !v4 && len(v) >= 16:
		return addr6(v), true
	}
	return netip.Addr{}, false
}
