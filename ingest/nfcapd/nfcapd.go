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
	blockType2   = 2 // nfdump 1.6's data blocks, read as nfdump 1.7 reads them
	blockType3   = 3
	blockArray   = 4   // names (interfaces, VRFs, applications): not flows
	flagRaw      = 0x1 // this block is not compressed, whatever the file says
	recordV3     = 11
	recExporter  = 7 // exporter information: address, version, id, sysid
	flagSampled  = 2 // V3 header flag: the collector was told the exporter samples
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
	Blocks        uint32 // data blocks, the appendix's not counted
	AppendixAt    int64  // file offset of the appendix (ident, statistics); 0: none
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
	r      *bufio.Reader
	Header Header
	offset int64  // file offset of the next block
	block  []byte // the current block's records (raw, or dec)
	raw    []byte // the block as read
	dec    []byte // the block decompressed
	head   [blockHeader]byte
	pos    int
	left   uint32 // records the current block still holds
	// blockRecords is the current block's record count, as its header says.
	blockRecords uint32
	rejects      map[string]int
	err          error
	done         bool
	// Exporters counts records by the exporter (address and domain) they
	// were received from,
	// from, complete once Next has returned false.
	Exporters map[Exporter]uint64
	// lastExp and lastN count the run of records from one exporter, added
	// to Exporters when another comes (a map update per record took 40% of
	// the reading).
	lastExp Exporter
	lastN   uint64
	// Examples says where the first rejects were and why: "block at offset
	// N: ..." (at most MaxExamples).
	Examples []string
	blockAt  int64 // file offset of the current block
	// dataBlocks counts the blocks read before the appendix, checked
	// against the header's count at the end (a file cut at a block's end
	// lost the blocks after it without a word).
	dataBlocks uint32
	exporters  map[uint16]exporterInfo // by sysid, from exporter records
	// Skipped counts what was read and is not a flow, or not kept: records
	// that are not flows and elements of flows flowcase does not read, by
	// name ("exporter records", "MPLS labels").
	Skipped map[string]uint64
	// Counts of flows kept as they came, for the file's notes.
	Early           uint64 // dated before 1990 (a time of 0: a collector's record without one)
	EventTimed      uint64 // placed at their firewall or NAT event's time, as they had no start (NSEL, NEL)
	Inverted        uint64 // their end before their start: the end set to the start
	Aggregated      uint64 // records that stand for several flows (nfdump -a)
	AggregatedFlows uint64 // the flows they stand for
	Sampled         uint64 // marked sampled: counters as the collector stored them
}

// Exporter is an exporter's address and observation domain.
type Exporter struct {
	Addr   netip.Addr
	Domain uint32
}

// exporterInfo is an exporter record: the address and observation domain
// (v9 source id, IPFIX observation domain id) of one exporter.
type exporterInfo struct {
	addr netip.Addr
	id   uint32
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
	rd := &Reader{r: br, offset: headerSize, rejects: map[string]int{}, Exporters: map[Exporter]uint64{}}
	rd.Header = Header{NfdumpVersion: le.Uint32(h[4:]), Created: int64(le.Uint64(h[8:])), Compression: h[16], Blocks: le.Uint32(h[36:]),
		AppendixAt: int64(le.Uint64(h[24:]))}
	rd.exporters = map[uint16]exporterInfo{}
	rd.Skipped = map[string]uint64{}
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
			} else if n := recordsIn(r.block[r.pos:]); n > 0 {
				// More records than the block's header counts: its count
				// was damaged; they are not read (which to trust is
				// unknown), but counted.
				r.rejects[ReasonBadBlock] += n
				r.example("%d records past the %d its header counts", n, r.blockRecords)
			}
			r.pos = len(r.block)
			if !r.nextBlock() {
				r.done = true
				r.countExporter(Exporter{})
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
			r.other(typ, b[:size]) // exporter, sampler and statistics records, ident: not flows
			continue
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
			switch {
			case r.dataBlocks < r.Header.Blocks:
				r.err = fmt.Errorf("offset %d: the file ends after %d of its %d data blocks (cut short)", r.offset, r.dataBlocks, r.Header.Blocks)
			case r.Header.AppendixAt > 0 && r.Header.AppendixAt >= r.offset:
				r.err = fmt.Errorf("offset %d: the file ends before its appendix at %d (cut short; every data block was read)", r.offset, r.Header.AppendixAt)
			}
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
			if records > 0 && (r.Header.AppendixAt == 0 || r.offset < r.Header.AppendixAt) { // the appendix's are not flows
				r.rejects[ReasonBadBlock] += int(records)
			}
			return false
		}
		if r.Header.AppendixAt == 0 || r.offset < r.Header.AppendixAt {
			r.dataBlocks++
		}
		r.offset += blockHeader + int64(size)
		if typ != blockType3 && typ != blockType2 {
			if typ != blockArray {
				r.Skipped[fmt.Sprintf("blocks of type %d", typ)]++
				r.example("block of type %d (%d records) is not one nfdump writes flows in: passed over", typ, records)
			}
			continue // array blocks (type 4) hold names, not flows
		}
		data, err := r.decompress(raw, flags)
		if err != nil {
			r.rejects[ReasonBadBlock] += int(records)
			r.example("%d records lost: %s block does not decompress: %v", records, r.Header.CompressionName(), err)
			continue
		}
		r.block, r.pos, r.left, r.blockRecords = data, 0, records, records
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
	exNSELCommon = 19 // firewall event: its time first
	exNELCommon  = 25 // NAT event: its time first
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
	var eventMs, flows uint64
	exp, known := r.exporters[le.Uint16(b[8:])] // the V3 header's exporter sysid
	sampled := b[10]&flagSampled != 0
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
			flows = le.Uint64(v)
			rec.RevPackets, rec.RevBytes = le.Uint64(v[8:]), le.Uint64(v[16:])
		case exNSELCommon, exNELCommon:
			if len(v) >= 8 {
				eventMs = le.Uint64(v) // the firewall's or NAT's event time
			}
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
		default:
			r.Skipped[elementName(typ)]++
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
	if rec.Start == 0 && eventMs > 0 && eventMs <= math.MaxInt64/1_000_000 {
		// An event record (NAT, firewall) of a collector that left the
		// flow's times empty: the event's time, as nfdump shows it.
		rec.Start, rec.End = int64(eventMs)*1e6, max(rec.End, int64(eventMs)*1e6)
		r.EventTimed++
	}
	if rec.End < rec.Start {
		rec.End = rec.Start
		r.Inverted++
	}
	if rec.Start < flow.MinPlausible {
		r.Early++
	}
	if flows > 1 {
		r.Aggregated++
		r.AggregatedFlows += flows
	}
	if sampled {
		r.Sampled++
	}
	if known {
		rec.ObsDomain = exp.id
		if !rec.Exporter.IsValid() {
			rec.Exporter = exp.addr
		}
	}
	if rec.Exporter.IsValid() {
		if e := (Exporter{rec.Exporter, rec.ObsDomain}); e != r.lastExp {
			r.countExporter(e)
		}
		r.lastN++
	}
	return ""
}

// elementNames name the V3 elements flowcase does not read, for the
// file's notes (nfdump's extension list).
var elementNames = map[uint16]string{
	14: "MPLS labels", 15: "MAC addresses", 16: "adjacent AS numbers", 17: "latencies", 18: "sampler references",
	23: "firewall ACLs", 24: "firewall user names", 26: "NAT port blocks", 27: "application ids (NBAR)",
	28: "labels", 29: "payloads (in)", 30: "payloads (out)", 31: "tunnel IPv4 addresses", 32: "tunnel IPv6 addresses",
	33: "observation points", 34: "interface names", 35: "VRF names", 36: "VRF ids", 37: "pf firewall information",
}

func elementName(typ uint16) string {
	if n, ok := elementNames[typ]; ok {
		return "elements not read: " + n
	}
	return fmt.Sprintf("elements not read: type %d", typ)
}

// recordNames name the records that are not flows.
var recordNames = map[uint16]string{
	7: "exporter records", 8: "exporter statistics records", 9: "sampler records", 10: "sampler records",
	15: "sampler records", 0x8001: "ident records", 0x8002: "statistics records",
}

// other notes a record that is not a flow; an exporter record says which
// address and domain a sysid stands for.
func (r *Reader) other(typ uint16, b []byte) {
	if n, ok := recordNames[typ]; ok {
		r.Skipped[n]++
	} else {
		r.Skipped[fmt.Sprintf("records of type %d", typ)]++
	}
	if typ != recExporter || len(b) < 32 {
		return
	}
	// type, size, version (u32), the address (16 bytes: IPv4 as a
	// host-order u32 in the second half), the address family (u16), the
	// sysid (u16) and the id (u32).
	le := binary.LittleEndian
	var a netip.Addr
	switch le.Uint16(b[24:]) {
	case 2: // AF_INET
		a = addr4(b[16:])
	case 10: // AF_INET6
		a = addr6(b[8:])
	}
	r.exporters[le.Uint16(b[26:])] = exporterInfo{a, le.Uint32(b[28:])}
}

// recordsIn counts the whole records in the rest of a block (0 when it is
// padding).
func recordsIn(b []byte) int {
	n := 0
	for len(b) >= 4 {
		size := int(binary.LittleEndian.Uint16(b[2:]))
		if size < 4 || size > len(b) || binary.LittleEndian.Uint16(b) == 0 {
			break
		}
		b, n = b[size:], n+1
	}
	return n
}

// countExporter adds the run of records from lastExp to Exporters and
// starts one from next.
func (r *Reader) countExporter(next Exporter) {
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
