package nfcapd

import "errors"

// LZO1X, as nfdump's -z compresses blocks (miniLZO's lzo1x_1): no Go
// module for it is served here, and decompression is short. The stream is
// a sequence of literal runs and back references; every read and copy is
// checked, so a damaged block is an error, never a panic or an overrun.

var errLZO = errors.New("damaged LZO block")

// lzoReader walks the compressed bytes.
type lzoReader struct {
	in  []byte
	pos int
	bad bool
}

func (r *lzoReader) byte() int {
	if r.pos >= len(r.in) {
		r.bad = true
		return 0
	}
	b := r.in[r.pos]
	r.pos++
	return int(b)
}

// length reads a run length continued in zero bytes (each adding 255) and
// a final byte, with base added.
func (r *lzoReader) length(base int) int {
	n := 0
	for r.pos < len(r.in) && r.in[r.pos] == 0 {
		n += 255
		r.pos++
		if n > 1<<30 {
			r.bad = true
			return 0
		}
	}
	return n + base + r.byte()
}

// lzo1xDecompress appends the decompressed bytes of in to out, at most limit
// bytes in all.
func lzo1xDecompress(in, out []byte, limit int) ([]byte, error) {
	r := &lzoReader{in: in}
	literals := func(n int) bool {
		if n < 0 || r.pos+n > len(r.in) || len(out)+n > limit {
			return false
		}
		out = append(out, r.in[r.pos:r.pos+n]...)
		r.pos += n
		return true
	}
	backref := func(dist, n int) bool { // copy n bytes from dist back; they may overlap
		if dist <= 0 || dist > len(out) || len(out)+n > limit {
			return false
		}
		from := len(out) - dist
		for i := range n {
			out = append(out, out[from+i])
		}
		return true
	}
	// state says what an instruction below 16 is: 0, a literal run; 1-3
	// (literals just followed a match), a 2-byte match; 4 (a literal run
	// just ended), a 3-byte match.
	state := 0
	if len(in) > 0 && in[0] > 17 { // a first literal run, coded apart
		n := r.byte() - 17
		if !literals(n) {
			return nil, errLZO
		}
		state = min(n, 4)
	}
	t := r.byte()
	for !r.bad {
		switch {
		case t >= 64: // a match of 3-8 bytes within 2 KiB
			dist := 1 + (t>>2)&7 + r.byte()<<3
			if !backref(dist, (t>>5)+1) {
				return nil, errLZO
			}
		case t >= 32: // a match within 16 KiB
			n := t & 31
			if n == 0 {
				n = r.length(31)
			}
			lo, hi := r.byte(), r.byte()
			if !backref(1+(lo>>2)+hi<<6, n+2) {
				return nil, errLZO
			}
		case t >= 16: // a match from 16 KiB to 48 KiB back, or the end
			n := t & 7
			if n == 0 {
				n = r.length(7)
			}
			lo, hi := r.byte(), r.byte()
			dist := (t&8)<<11 + (lo >> 2) + hi<<6
			if dist == 0 {
				if r.bad || r.pos != len(r.in) {
					return nil, errLZO
				}
				return out, nil
			}
			if !backref(dist+0x4000, n+2) {
				return nil, errLZO
			}
		case state == 0: // a literal run
			n := t + 3
			if t == 0 {
				n = r.length(15) + 3
			}
			if !literals(n) {
				return nil, errLZO
			}
			state = 4
			t = r.byte()
			continue
		case state == 4: // a 3-byte match right after a literal run
			if !backref(1+0x800+t>>2+r.byte()<<2, 3) {
				return nil, errLZO
			}
		default: // a 2-byte match right after a match's literals
			if !backref(1+t>>2+r.byte()<<2, 2) {
				return nil, errLZO
			}
		}
		// The low two bits of the byte before the match's last byte (the
		// first offset byte, or the instruction of a one-byte offset) count
		// the literals that follow it.
		state = int(r.in[max(r.pos-2, 0)] & 3)
		if !literals(state) {
			return nil, errLZO
		}
		t = r.byte()
	}
	return nil, errLZO
}
