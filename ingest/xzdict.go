package ingest

import (
	"bufio"
	"fmt"
)

// xzDict returns the dictionary size that the first block of the xz
// stream at the start of head asks its decoder to allocate, read from the
// block header's LZMA2 filter (the xz file format, sections 3.1 and 5.3.1).
// It is 0 when head holds no block (an empty stream) or too little of one
// to tell; the decoder then judges the stream itself.
//
// The decoder allocates what the header asks for, up to 4 GiB, before it
// reads a byte of data: this is the only place to refuse a hostile one.
func xzDict(head []byte) (uint64, error) {
	const streamHeader = 12
	if len(head) <= streamHeader || head[streamHeader] == 0 { // 0: the index, no block
		return 0, nil
	}
	size := (int(head[streamHeader]) + 1) * 4
	if len(head) < streamHeader+size {
		return 0, nil
	}
	h := head[streamHeader : streamHeader+size-4] // less its CRC32
	flags, p := h[1], 2
	var ok bool
	for _, present := range []byte{0x40, 0x80} { // compressed, uncompressed size
		if flags&present != 0 {
			if _, p, ok = xzVarint(h, p); !ok {
				return 0, fmt.Errorf("xz block header at offset %d: bad size field", streamHeader)
			}
		}
	}
	for range int(flags&3) + 1 {
		var id, n uint64
		if id, p, ok = xzVarint(h, p); !ok {
			return 0, fmt.Errorf("xz block header at offset %d: bad filter id", streamHeader)
		}
		if n, p, ok = xzVarint(h, p); !ok || n > uint64(len(h)-p) {
			return 0, fmt.Errorf("xz block header at offset %d: bad filter properties", streamHeader)
		}
		if id == 0x21 { // LZMA2, the last filter
			if n != 1 || h[p] > 40 {
				return 0, fmt.Errorf("xz block header at offset %d: bad LZMA2 dictionary size", streamHeader)
			}
			c := h[p]
			if c == 40 {
				return 1<<32 - 1, nil
			}
			return uint64(2|c&1) << (c/2 + 11), nil
		}
		p += int(n)
	}
	return 0, nil
}

// xzVarint reads the multibyte integer of the xz format at h[p:].
func xzVarint(h []byte, p int) (uint64, int, bool) {
	var v uint64
	for i := 0; i < 9 && p < len(h); i++ {
		b := h[p]
		p++
		v |= uint64(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			return v, p, b != 0 || i == 0
		}
	}
	return 0, p, false
}

// checkXZDict refuses an xz stream whose first block asks for a dictionary
// larger than maxWindow (xz -9 asks for 64 MiB).
func checkXZDict(br *bufio.Reader) error {
	head, _ := br.Peek(12 + 1024)
	d, err := xzDict(head)
	if err != nil {
		return err
	}
	if d > maxWindow {
		return fmt.Errorf("xz dictionary of %d MiB, more than the %d MiB flowcase allows a stream", d>>20, maxWindow>>20)
	}
	return nil
}
