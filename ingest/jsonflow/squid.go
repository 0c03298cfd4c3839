package jsonflow

import (
	"bytes"
	"net/netip"
	"strconv"

	"github.com/flowcase/flowcase/internal/flow"
)

// Squid's access.log in its native format, one request a line, as web
// proxies write it (and the C2 beacons an investigator hunts for go through
// them):
//
//	1683000000.123    456 10.0.0.5 TCP_TUNNEL/200 6656 CONNECT example.com:443 - HIER_DIRECT/93.184.216.34 -
//	1683000060.456     12 10.0.0.5 TCP_MISS/200 1234 GET http://example.com/a - HIER_DIRECT/93.184.216.34 text/html
//
// A request is a flow from the client to the server the proxy reached (the
// hierarchy field's address), on the URL's port (CONNECT's, or 80 and 443
// by scheme), ending at the logged time and lasting the elapsed
// milliseconds; the bytes the proxy sent back to the client are its
// reverse bytes. A request the proxy answered itself (a denial, a cache
// hit: no server address) is not a flow.

// squidLine reports whether line is a Squid native access.log record.
func squidLine(line []byte) bool {
	f := bytes.Fields(line)
	if len(f) < 10 || bytes.IndexByte(f[0], '.') < 0 || bytes.IndexByte(f[3], '/') < 0 || bytes.IndexByte(f[8], '/') < 0 {
		return false
	}
	if _, err := strconv.ParseFloat(string(f[0]), 64); err != nil {
		return false
	}
	if _, err := strconv.ParseUint(string(f[1]), 10, 64); err != nil {
		return false
	}
	_, err := netip.ParseAddr(string(f[2]))
	return err == nil
}

// squidLineRecord decodes one access.log line.
func (d *Reader) squidLineRecord(line []byte, rec *flow.Record, pos int64) bool {
	dec := &d.dec
	dec.reset(rec)
	d.words = appendFields(d.words[:0], line)
	f := d.words
	if len(f) < 10 {
		dec.reason, dec.detail = ReasonMalformed, "fewer than 10 fields"
		return d.keep(dec.reason, dec.detail, pos)
	}
	_, peer, _ := bytes.Cut(f[8], []byte{'/'})
	server, err := netip.ParseAddr(string(peer))
	if err != nil {
		dec.notFlow = "squid request answered by the proxy"
		reason, detail := dec.finish(rec)
		return d.keep(reason, detail, pos)
	}
	dec.apply(fields["src_ip"], value{kind: kindString, raw: f[2]}, rec)
	rec.DstAddr, rec.Proto = server.Unmap(), flow.ProtoTCP
	rec.DstPort = squidPort(f[5], f[6])
	if n, err := strconv.ParseUint(string(f[4]), 10, 64); err == nil {
		rec.RevBytes = n
	}
	dec.slots[slotEnd] = value{kind: kindNumber, raw: f[0]}
	dec.slots[slotDurationMs] = value{kind: kindNumber, raw: f[1]}
	reason, detail := dec.finish(rec)
	return d.keep(reason, detail, pos)
}

// squidPort is the server port of a request: CONNECT's host:port, a URL's
// explicit port, else the scheme's.
func squidPort(method, url []byte) uint16 {
	host := url
	if i := bytes.Index(url, []byte("://")); i >= 0 {
		host = url[i+3:]
	}
	if i := bytes.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if i := bytes.LastIndexByte(host, ':'); i >= 0 && !bytes.HasSuffix(host, []byte("]")) {
		if p, err := strconv.ParseUint(string(host[i+1:]), 10, 16); err == nil {
			return uint16(p)
		}
	}
	switch {
	case bytes.Equal(method, []byte("CONNECT")), bytes.HasPrefix(url, []byte("https://")):
		return 443
	case bytes.HasPrefix(url, []byte("ftp://")):
		return 21
	}
	return 80
}

// appendFields appends the space-separated words of b to dst (bytes.Fields
// without a new slice for every line).
func appendFields(dst [][]byte, b []byte) [][]byte {
	for w := range bytes.FieldsSeq(b) {
		dst = append(dst, w)
	}
	return dst
}
