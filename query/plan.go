package query

import (
	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
)

// Request is one read of the store: a time range and a filter.
type Request struct {
	Range  Range
	Filter *Filter // nil: every flow
	// Columns the caller needs (0: all). The filter's own columns are added.
	Columns index.Columns
	// Ordered asks for rows in non-decreasing start time.
	Ordered bool
	// Parallel decodes up to this many partitions at once; the rows still
	// come in the order of a serial scan.
	Parallel int
}

// DetectorColumns are the record fields the detectors read: times,
// addresses, ports, protocol, TCP flags, both directions' bytes and
// packets, ICMP type and code, the exporter, the sampling interval and the
// source. The rest (post-middlebox counters and NAT fields, interfaces, AS
// numbers, VLAN, next hop, direction) is left undecoded.
const DetectorColumns = index.ColTime | index.ColAddrs | index.ColPorts | index.ColProto | index.ColFlags |
	index.ColCounters | index.ColICMP | index.ColExporter | index.ColSampling | index.ColSource

// Scan plans and runs a request: partitions overlapping the range, then
// segments whose manifests overlap it, then the filter's indexed terms as
// bitmap operations over the postings, then only the blocks holding
// candidate rows; the rest of the filter, when the index does not answer it
// exactly, is checked on each decoded row.
func Scan(st *index.Store, req Request, fn func(*flow.Record) bool) (index.ScanStats, error) {
	q := index.Query{From: req.Range.From, To: req.Range.To, Starting: req.Range.Starting,
		Columns: req.Columns, Ordered: req.Ordered, Parallel: req.Parallel}
	req.Filter.apply(&q)
	return st.Scan(q, fn)
}

// apply sets q's index tree and the check of each candidate row: the store
// checks it after decoding the time columns and the filter's own, and
// decodes the other columns for accepted rows only. When the filter has
// only indexed terms, the store skips the check in the segments whose
// postings answer the tree exactly.
func (f *Filter) apply(q *index.Query) {
	if f == nil || f.ast == nil {
		return
	}
	q.Match = f.IndexMatch()
	q.Filter, q.FilterColumns = f.Match, f.prog.columns()
	q.MatchExact = f.ast.exact
}

// ScanEach runs a request whose consumer needs no order (counts, sums) on
// up to workers goroutines, each with a consumer of its own from
// newConsumer; the caller merges what they gathered. req.Ordered and
// req.Parallel are ignored.
func ScanEach(st *index.Store, req Request, workers int, newConsumer func() func(*flow.Record) bool) (index.ScanStats, error) {
	q := index.Query{From: req.Range.From, To: req.Range.To, Starting: req.Range.Starting, Columns: req.Columns}
	req.Filter.apply(&q)
	return st.ScanEach(q, workers, newConsumer)
}

// Count returns how many flows a request selects, reading only the blocks
// it must (see index.Store.Count). req.Columns, Ordered and Parallel are
// ignored.
func Count(st *index.Store, req Request) (int64, index.ScanStats, error) {
	q := index.Query{From: req.Range.From, To: req.Range.To, Starting: req.Range.Starting}
	req.Filter.apply(&q)
	return st.Count(q)
}
