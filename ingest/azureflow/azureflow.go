// Package azureflow reads Azure's flow logs: network security group (NSG)
// flow logs, versions 1 and 2, and virtual network (VNet) flow logs, as
// Azure writes them to a storage account (one JSON document per blob,
// {"records": [...]}) or streams them through Event Hubs.
//
// Each record holds, per rule (NSG) or access list (VNet), flow tuples:
// comma-separated strings, one per flow state change. A tuple becomes a
// flow record of its time: the addresses, ports, protocol and direction,
// and, from NSG version 2 and VNet logs, the packets and bytes each way
// since the previous tuple of the connection. A connection is thus several
// records (its begin, continuing and end tuples), which the detectors join
// as they join an exporter's records of one long connection; a denied
// attempt is a record without packets.
//
// The document is read as a stream of JSON tokens: one tuple at a time is
// held, never a whole record or blob.
package azureflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// Reasons tuples are rejected (the keys of Rejects).
const (
	ReasonBadTuple = "bad flow tuple"     // wrong number of fields, or one that does not parse
	ReasonTooOld   = "time before 1990"   // a clock never set
	ReasonFuture   = "time in the future" // more than a day after Options.Now
)

// Sniff reports whether head, the start of a file, is an Azure flow log
// document: an object whose "records" hold NSG or VNet flow events.
func Sniff(head []byte) bool {
	h := bytes.TrimLeft(bytes.TrimPrefix(head, []byte{0xEF, 0xBB, 0xBF}), " \t\r\n")
	return len(h) > 0 && h[0] == '{' && bytes.Contains(h, []byte(`"records"`)) &&
		(bytes.Contains(h, []byte("NetworkSecurityGroupFlowEvent")) || bytes.Contains(h, []byte("FlowLogFlowEvent")))
}

// frame is a JSON object or array the reader is inside: its name (the key
// that led to it, or the array's that holds it) and, for an object, the
// key whose value comes next.
type frame struct {
	obj       bool
	expectKey bool
	name      string
	pending   string
}

// Reader reads the flow records of one Azure flow log document, walking
// its tokens: at most one tuple is held, whatever the size of a record.
type Reader struct {
	dec        *json.Decoder
	stack      []frame
	sawRecords bool
	done       bool
	err        error
	latest     int64 // unix ns: later times are in the future
	rejects    map[string]int
	examples   []string
	// Records counts the document's records; NSG and VNet the tuples of
	// each kind of log.
	Records, NSG, VNet int
}

// MaxExamples bounds Reader.Examples.
const MaxExamples = 20

// maxDepth bounds the nesting followed; Azure's documents are 6 deep.
const maxDepth = 64

// NewReader returns a Reader of r (decompressed); now is the reference for
// "time in the future" (a day after it).
func NewReader(r io.Reader, now time.Time) *Reader {
	return &Reader{dec: json.NewDecoder(&valueGuard{r: r}), latest: now.Add(24 * time.Hour).UnixNano(), rejects: map[string]int{}}
}

// MaxValue bounds one JSON string or number of the document: the decoder
// holds a token whole, so one of gigabytes would be read into memory.
// Azure's longest values are flow tuples of about 100 bytes.
const MaxValue = 1 << 20

// valueGuard passes the document through, failing it at a string or
// number longer than MaxValue.
type valueGuard struct {
	r           io.Reader
	run         int // bytes of the current string or bare value
	in, escaped bool
}

func (g *valueGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for i, c := range p[:n] {
		switch {
		case g.in && g.escaped:
			g.escaped = false
		case g.in && c == '\\':
			g.escaped = true
		case c == '"':
			g.in, g.run = !g.in, 0
			continue
		case !g.in && (c <= ' ' || c == ',' || c == ':' || c == '{' || c == '}' || c == '[' || c == ']'):
			g.run = 0
			continue
		}
		if g.run++; g.run > MaxValue {
			return i, fmt.Errorf("a value of more than %d bytes", MaxValue)
		}
	}
	return n, err
}

func (r *Reader) Err() error              { return r.err }
func (r *Reader) Rejects() map[string]int { return r.rejects }
func (r *Reader) Assumed() int            { return 0 }

// Examples says where the first rejects were and why.
func (r *Reader) Examples() []string { return r.examples }

// Next fills rec with the next flow; false at the end of the document or
// at an error that stops it (Err; the records before it stand).
func (r *Reader) Next(rec *flow.Record) bool {
	for !r.done {
		t, ok := r.nextTuple()
		if !ok {
			r.done = true
			break
		}
		if reason := r.tuple(t, rec); reason != "" {
			r.rejects[reason]++
			if len(r.examples) < MaxExamples {
				r.examples = append(r.examples, fmt.Sprintf("record %d: %s: %q", r.Records, reason, cut(t)))
			}
			continue
		}
		return true
	}
	return false
}

// nextTuple walks the document's tokens to the next string of a
// "flowTuples" array inside the top-level "records".
func (r *Reader) nextTuple() (string, bool) {
	for {
		tok, err := r.dec.Token()
		if errors.Is(err, io.EOF) {
			if len(r.stack) > 0 {
				r.fail(io.ErrUnexpectedEOF)
			} else if !r.sawRecords {
				r.fail(errors.New(`no "records" in the document`))
			}
			return "", false
		}
		if err != nil {
			r.fail(err)
			return "", false
		}
		top := len(r.stack) - 1
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top < 0 && v != '{' {
					r.fail(errors.New("the document is not an object"))
					return "", false
				}
				if len(r.stack) == maxDepth {
					r.fail(fmt.Errorf("nested more than %d deep", maxDepth))
					return "", false
				}
				name := ""
				if top >= 0 {
					if name = r.stack[top].name; r.stack[top].obj {
						name = r.stack[top].pending
					}
					r.valueDone(top)
				}
				r.stack = append(r.stack, frame{obj: v == '{', expectKey: v == '{', name: name})
				switch {
				case len(r.stack) == 2 && v == '[' && name == "records":
					r.sawRecords = true
				case len(r.stack) == 3 && v == '{' && r.stack[1].name == "records":
					r.Records++
				}
			default: // '}', ']'
				r.stack = r.stack[:top]
			}
		case string:
			if top < 0 {
				r.fail(errors.New("the document is not an object"))
				return "", false
			}
			f := &r.stack[top]
			if f.obj && f.expectKey {
				f.pending, f.expectKey = v, false
				continue
			}
			r.valueDone(top)
			if !f.obj && f.name == "flowTuples" && len(r.stack) > 2 && r.stack[1].name == "records" {
				r.count()
				return v, true
			}
		default:
			if top >= 0 {
				r.valueDone(top)
			}
		}
	}
}

// valueDone notes that frame i's value was read: an object expects a key.
func (r *Reader) valueDone(i int) {
	if r.stack[i].obj {
		r.stack[i].expectKey = true
	}
}

// count adds a tuple to its kind of log: NSG flow logs keep their tuples
// under "properties", VNet flow logs under "flowRecords".
func (r *Reader) count() {
	for _, f := range r.stack {
		switch f.name {
		case "properties":
			r.NSG++
			return
		case "flowRecords":
			r.VNet++
			return
		}
	}
}

// fail stops the reader at an error.
func (r *Reader) fail(err error) {
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("offset %d: %w", r.dec.InputOffset(), err)
	}
}

// tuple parses one flow tuple into rec, or returns why not.
//
//	NSG v1: time (s), src, dst, sport, dport, T|U, I|O, A|D
//	NSG v2: the same, then B|C|E, packets and bytes source to destination,
//	        packets and bytes back (empty at B and for denied flows)
//	VNet:   time (ms), src, dst, sport, dport, protocol number, I|O,
//	        B|C|E|D, encryption, then the four counters
func (r *Reader) tuple(t string, rec *flow.Record) string {
	var fa [13]string // the fields, cut in place (a tuple allocates nothing)
	n := 0
	for part := range strings.SplitSeq(t, ",") {
		if n == len(fa) {
			return ReasonBadTuple
		}
		fa[n] = part
		n++
	}
	f := fa[:n]
	if len(f) != 8 && len(f) != 13 {
		return ReasonBadTuple
	}
	*rec = flow.Record{SamplingInterval: 1}
	ts, err := strconv.ParseInt(f[0], 10, 64)
	src, err1 := netip.ParseAddr(f[1])
	dst, err2 := netip.ParseAddr(f[2])
	sport, err3 := strconv.ParseUint(f[3], 10, 16)
	dport, err4 := strconv.ParseUint(f[4], 10, 16)
	if err != nil || err1 != nil || err2 != nil || err3 != nil || err4 != nil || ts < 0 {
		return ReasonBadTuple
	}
	ts, ok := flow.EpochNanos(ts) // NSG: seconds; VNet: milliseconds
	switch {
	case !ok || ts > r.latest:
		return ReasonFuture
	case ts < flow.MinPlausible:
		return ReasonTooOld
	}
	rec.Start, rec.End = ts, ts
	rec.SrcAddr, rec.DstAddr = src.Unmap(), dst.Unmap()
	rec.SrcPort, rec.DstPort = uint16(sport), uint16(dport)
	switch p := f[5]; p {
	case "T":
		rec.Proto = flow.ProtoTCP
	case "U":
		rec.Proto = flow.ProtoUDP
	default:
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return ReasonBadTuple
		}
		rec.Proto = uint8(n)
	}
	switch f[6] {
	case "I":
		rec.Dir = flow.DirIngress
	case "O":
		rec.Dir = flow.DirEgress
	default:
		return ReasonBadTuple
	}
	if flow.IsICMP(rec.Proto) {
		rec.SrcPort, rec.DstPort = 0, 0
	}
	if len(f) == 8 {
		return ""
	}
	var counters [4]uint64
	for i, s := range f[9:13] {
		if s == "" {
			continue
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return ReasonBadTuple
		}
		counters[i] = n
	}
	rec.Packets, rec.Bytes, rec.RevPackets, rec.RevBytes = counters[0], counters[1], counters[2], counters[3]
	return ""
}

func cut(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
