package detectors

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Evidence is what every finding rests on: its time span, the records,
// their byte counts (raw as exported, and scaled by the sampling interval),
// the sampling intervals, source files and exporters involved, and a
// runnable command that lists the records.
//
// Span convention: FirstSeen is the earliest start of a record the finding
// rests on, LastSeen the latest start, LastEnd the latest end. Query selects
// by start time (--starting) over the half-open range
// [FirstSeen, LastSeen+1ns), so it lists exactly the records whose start
// lies in the span and that match the filter.
type Evidence struct {
	FirstSeenNS int64  `json:"first_seen_ns"`
	FirstSeen   string `json:"first_seen"`
	LastSeenNS  int64  `json:"last_seen_ns"`
	LastSeen    string `json:"last_seen"`
	LastEndNS   int64  `json:"last_end_ns"`
	LastEnd     string `json:"last_end"`
	// Flows is the number of flow records counted.
	Flows       uint64 `json:"flows"`
	RawBytes    uint64 `json:"raw_bytes"`    // bytes_in + bytes_out as exported
	ScaledBytes uint64 `json:"scaled_bytes"` // the same, times each record's sampling interval
	// SamplingIntervals are the distinct sampling intervals of the records.
	SamplingIntervals []uint32 `json:"sampling_intervals"`
	// SourceIDs are the store's ids of the ingested files; Sources is
	// filled by the caller with their SHA-256 (see Report.MapSources).
	SourceIDs []uint32     `json:"source_ids"`
	Sources   []string     `json:"sources,omitempty"`
	Exporters []netip.Addr `json:"exporters"`
	// Query is a flowcase command that lists the records.
	Query string `json:"query"`
	// QueryTo is Query's --to (unix ns, exclusive), which the command line
	// bounds by the range when it rewrites Query for the store.
	QueryTo int64 `json:"-"`
}

// FormatTime renders unix nanoseconds as RFC 3339 in UTC with the fraction
// the value needs (time.RFC3339Nano).
func FormatTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// FlowsQuery builds the command that lists the records of a span: by start
// time, from first to last inclusive, with the given filter. Findings pass
// their last end as last: every record they count starts by then.
func FlowsQuery(first, lastStart int64, filter string) string {
	return fmt.Sprintf("flowcase query flows --starting --from %s --to %s --filter '%s'",
		FormatTime(first), FormatTime(lastStart+1), filter)
}

// evAcc accumulates Evidence. Origins (source file, exporter, sampling
// interval) are interned ids; the first is kept inline, so the common case
// costs one comparison and no allocation.
type evAcc struct {
	first, lastStart, lastEnd int64
	flows, raw, scaled        uint64
	has, hasOrigin            bool
	orig0                     uint32
	more                      []uint32 // further distinct origins, rare
}

// addSpan counts flows records whose starts lie in [first, lastStart] and
// that end by lastEnd.
func (e *evAcc) addSpan(first, lastStart, lastEnd int64, flows, raw, scaled uint64) {
	if !e.has {
		e.has, e.first, e.lastStart, e.lastEnd = true, first, lastStart, lastEnd
	} else {
		e.first = min(e.first, first)
		e.lastStart = max(e.lastStart, lastStart)
		e.lastEnd = max(e.lastEnd, lastEnd)
	}
	e.flows += flows
	e.raw = addSat(e.raw, raw)
	e.scaled = addSat(e.scaled, scaled)
}

// add counts one record.
func (e *evAcc) add(start, end int64, orig uint32, raw, scaled uint64) {
	e.addSpan(start, start, end, 1, raw, scaled)
	e.origin(orig)
}

// origin notes an origin id.
func (e *evAcc) origin(id uint32) {
	switch {
	case !e.hasOrigin:
		e.hasOrigin, e.orig0 = true, id
	case id == e.orig0 || len(e.more) > 0 && e.more[len(e.more)-1] == id:
	case !slices.Contains(e.more, id):
		e.more = append(e.more, id)
	}
}

// addConn counts the records of a connection.
func (e *evAcc) addConn(c *conn) {
	e.addSpan(c.start, c.lastStart, c.end, uint64(c.records), c.fwdBytes+c.revBytes, c.scaled)
	e.connOrigin(c)
}

func (e *evAcc) connOrigin(c *conn) {
	for i := range c.nOrigin {
		e.origin(c.origin[i])
	}
}

// merge adds everything of o.
func (e *evAcc) merge(o *evAcc) {
	if o.has {
		e.addSpan(o.first, o.lastStart, o.lastEnd, o.flows, o.raw, o.scaled)
	}
	if o.hasOrigin {
		e.origin(o.orig0)
		for _, id := range o.more {
			e.origin(id)
		}
	}
}

// evidence renders the accumulated evidence with a query for filter,
// resolving origins through t.
func (e *evAcc) evidence(filter string, t *origTab) Evidence {
	ev := Evidence{
		FirstSeenNS: e.first, FirstSeen: FormatTime(e.first),
		LastSeenNS: e.lastStart, LastSeen: FormatTime(e.lastStart),
		LastEndNS: e.lastEnd, LastEnd: FormatTime(e.lastEnd),
		Flows: e.flows, RawBytes: e.raw, ScaledBytes: e.scaled,
		SamplingIntervals: []uint32{}, SourceIDs: []uint32{}, Exporters: []netip.Addr{},
		// Up to the last end, not the last start: the answers joined into
		// a counted connection may start after its last attempt.
		Query:   FlowsQuery(e.first, max(e.lastStart, e.lastEnd), filter),
		QueryTo: max(e.lastStart, e.lastEnd) + 1,
	}
	if !e.hasOrigin {
		return ev
	}
	for _, id := range append([]uint32{e.orig0}, e.more...) {
		o := t.list[id]
		ev.SamplingIntervals = append(ev.SamplingIntervals, max(o.samp, 1))
		ev.SourceIDs = append(ev.SourceIDs, o.src)
		if o.exp.IsValid() {
			ev.Exporters = append(ev.Exporters, o.exp)
		}
	}
	slices.Sort(ev.SamplingIntervals)
	ev.SamplingIntervals = slices.Compact(ev.SamplingIntervals)
	slices.Sort(ev.SourceIDs)
	ev.SourceIDs = slices.Compact(ev.SourceIDs)
	slices.SortFunc(ev.Exporters, netip.Addr.Compare)
	ev.Exporters = slices.Compact(ev.Exporters)
	return ev
}

// Filter helpers: the terms of flowcase's filter language.

// pairFilter selects the flows between a and b, either way; a host talking
// to itself is both ends of its flows ("ip a and ip a" is any of a's).
func pairFilter(a, b netip.Addr) string {
	if a == b {
		return "src ip " + a.String() + " and dst ip " + a.String()
	}
	return "ip " + a.String() + " and ip " + b.String()
}

func protoFilter(protos []uint8) string {
	if len(protos) != 1 {
		return ""
	}
	return " and proto " + protoWord(protos[0])
}

// protoWord is a protocol as the filter language spells it.
func protoWord(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	}
	return fmt.Sprint(p)
}

// portsFilter selects any of ports (sorted, distinct), runs of three or
// more consecutive ports as a portrange: a sweep of every port (masscan
// -p1-65535) spelled port by port made a filter of 906 kB, beyond what
// one argument of a command may be (128 KiB on Linux).
func portsFilter(ports []uint16) string {
	var terms []string
	for i := 0; i < len(ports); {
		j := i + 1
		for j < len(ports) && ports[j] == ports[j-1]+1 {
			j++
		}
		if j-i >= 3 {
			terms = append(terms, fmt.Sprintf("portrange %d-%d", ports[i], ports[j-1]))
		} else {
			for _, p := range ports[i:j] {
				terms = append(terms, fmt.Sprintf("port %d", p))
			}
		}
		i = j
	}
	if len(terms) == 1 {
		return terms[0]
	}
	return "(" + strings.Join(terms, " or ") + ")"
}

// originLists holds, for compact evidence, the origins beyond the first.
type originLists [][]uint32

// Flags of compact evidence (evAcc without pointers, for state kept per
// key by the million), kept in a byte of its owner's.
const (
	evHas       = 1 << iota // a span was added
	evHasOrigin             // the first origin is set
)

// noteOrigin notes origin id (as evAcc.origin) in compact evidence whose
// first origin is *orig0 and whose further ones are the list *more in ol
// (index plus 1; 0: none); fl holds evHasOrigin.
func noteOrigin(id uint32, orig0, more *uint32, ol *originLists, fl *uint8) {
	switch {
	case *fl&evHasOrigin == 0:
		*fl |= evHasOrigin
		*orig0 = id
	case id == *orig0:
	case *more == 0:
		*ol = append(*ol, []uint32{id})
		*more = uint32(len(*ol))
	default:
		l := &(*ol)[*more-1]
		if (*l)[len(*l)-1] != id && !slices.Contains(*l, id) {
			*l = append(*l, id)
		}
	}
}
