package pcap

import "io"

// peekReader is a read buffer that grows to the largest unit peeked (at most maxBlock, which
// the callers ensure), so a capture of small packets never costs the full-size buffer.
// Peeked bytes stay valid until the next Peek.
type peekReader struct {
	r          io.Reader
	buf        []byte
	start, end int
	err        error
}

const peekInitial = 64 << 10

func newPeekReader(r io.Reader) *peekReader {
	return &peekReader{r: r, buf: make([]byte, peekInitial)}
}

// Peek returns the next n bytes without consuming them; fewer, with the read error (io.EOF
// at the end), when the stream ends first.
func (p *peekReader) Peek(n int) ([]byte, error) {
	for p.end-p.start < n && p.err == nil {
		if len(p.buf)-p.start < n {
			p.makeRoom(n)
		}
		var m int
		m, p.err = p.r.Read(p.buf[p.end:])
		p.end += m
	}
	if p.end-p.start >= n {
		return p.buf[p.start : p.start+n], nil
	}
	return p.buf[p.start:p.end], p.err
}

// makeRoom moves the unread bytes to the front, into a larger buffer if n needs it.
func (p *peekReader) makeRoom(n int) {
	buf := p.buf
	if len(buf) < n {
		buf = make([]byte, max(n, 2*len(buf)))
	}
	p.end = copy(buf, p.buf[p.start:p.end])
	p.start, p.buf = 0, buf
}

// Read makes a peekReader an io.Reader (for gzip).
func (p *peekReader) Read(b []byte) (int, error) {
	if p.start == p.end {
		if p.err != nil {
			return 0, p.err
		}
		p.start, p.end = 0, 0
		var m int
		m, p.err = p.r.Read(p.buf)
		p.end = m
	}
	n := copy(b, p.buf[p.start:p.end])
	p.start += n
	return n, nil
}

// Discard skips the next n bytes; it returns how many it skipped, and the read error when the
// stream ended first.
func (p *peekReader) Discard(n int) (int, error) {
	done := 0
	for {
		k := min(n-done, p.end-p.start)
		p.start += k
		done += k
		if done == n {
			return done, nil
		}
		if p.err != nil {
			return done, p.err
		}
		p.start, p.end = 0, 0
		var m int
		m, p.err = p.r.Read(p.buf)
		p.end = m
	}
}
