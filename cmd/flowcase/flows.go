package main

import (
	"bufio"
	"cmp"
	"container/heap"
	"fmt"
	"runtime"
	"slices"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/query"
	"github.com/urfave/cli/v2"
)

// tableDefaultLimit is how many rows a table shows unless --limit says.
const tableDefaultLimit = 100

func flowsCommand() *cli.Command {
	return &cli.Command{
		Name:  "flows",
		Usage: "list the flows in a time range that match a filter",
		Flags: append(rangeFlags(),
			formatFlag(""),
			&cli.IntFlag{Name: "limit", Value: -1, Usage: "at most N flows (0: all; table default 100, others all)"},
			&cli.StringFlag{Name: "sort", Value: "start", Usage: "order: start|bytes|packets (bytes and packets descending)"},
		),
		Action: runFlows,
	}
}

func runFlows(c *cli.Context) error {
	format := c.String("format")
	order := c.String("sort")
	if !slices.Contains([]string{"start", "bytes", "packets"}, order) {
		return usagef("--sort %q: want start, bytes or packets", order)
	}
	limit := c.Int("limit")
	if c.IsSet("limit") && limit < 0 {
		return usagef("--limit %d: want 0 (all) or more", limit)
	}
	if limit < 0 {
		limit = 0
		if format == "table" && !c.IsSet("limit") {
			limit = tableDefaultLimit
		}
	}
	sc, err := openScope(c)
	if err != nil {
		return err
	}
	defer sc.st.Close()
	hashes := sourceHashes{st: sc.st}
	bw := bufio.NewWriterSize(c.App.Writer, 1<<16)
	out := newRecordWriter(bw, format, sc.tz, hashes.get)
	// Partitions are decoded on every core; rows still come in order.
	req := query.Request{Range: sc.rng, Filter: sc.filter, Ordered: true, Parallel: runtime.GOMAXPROCS(0)}
	n, more := 0, false
	if order == "start" {
		_, err = query.Scan(sc.st, req, func(r *flow.Record) bool {
			if limit > 0 && n == limit {
				more = true
				return false
			}
			n++
			out.write(r)
			return true
		})
	} else if limit > 0 && limit <= sortRunLen {
		req.Ordered = false
		var rows []flow.Record
		rows, more, err = topRecords(sc, req, order, limit)
		for i := range rows {
			out.write(&rows[i])
		}
		n = len(rows)
	} else {
		// Every flow (or very many) by bytes or packets: sorted in runs
		// spilled to temporary files and merged, in bounded memory.
		s := newRecordSorter(sortKey(order), "")
		var serr error
		_, err = query.Scan(sc.st, req, func(r *flow.Record) bool { serr = s.add(r); return serr == nil })
		if err = cmp.Or(err, serr); err == nil {
			err = s.each(func(r *flow.Record) {
				if limit > 0 && n == limit {
					more = true
					return
				}
				n++
				out.write(r)
			})
		}
	}
	if err == nil {
		err = hashes.err
	}
	if err != nil {
		return err
	}
	out.close()
	if err := bw.Flush(); err != nil {
		return err
	}
	if more && format == "table" {
		fmt.Fprintf(c.App.ErrWriter, "(first %d flows shown; --limit 0 shows all)\n", n)
	}
	if note := sc.outsideNote(); n == 0 && note != "" {
		fmt.Fprintln(c.App.ErrWriter, "note: "+note)
	}
	return nil
}

// sortKey is the key of --sort bytes or packets: both directions.
func sortKey(order string) func(*flow.Record) uint64 {
	if order == "packets" {
		return func(r *flow.Record) uint64 { return r.TotalPackets() }
	}
	return func(r *flow.Record) uint64 { return r.TotalBytes() }
}

// topRecords returns the flows with the most bytes (or packets), keeping
// at most limit of them in memory (all when limit is 0).
func topRecords(sc *scope, req query.Request, order string, limit int) ([]flow.Record, bool, error) {
	key := sortKey(order)
	h := &recHeap{key: key}
	more := false
	_, err := query.Scan(sc.st, req, func(r *flow.Record) bool {
		if limit > 0 && len(h.rows) == limit {
			more = true
			if !h.less(h.rows[0], *r) {
				return true
			}
			h.rows[0] = *r
			heap.Fix(h, 0)
			return true
		}
		heap.Push(h, *r)
		return true
	})
	slices.SortStableFunc(h.rows, func(a, b flow.Record) int { return compareSorted(key, &a, &b) })
	return h.rows, more, err
}

// recHeap is a min-heap on key, so the smallest of the kept rows is
// the one replaced.
type recHeap struct {
	rows []flow.Record
	key  func(*flow.Record) uint64
}

func (h *recHeap) less(a, b flow.Record) bool { return compareSorted(h.key, &a, &b) > 0 }

// compareSorted is the order of --sort bytes|packets: the key descending,
// then start, end, addresses, ports, protocol and source, so that the flows
// shown do not depend on the order a parallel scan found them in.
func compareSorted(key func(*flow.Record) uint64, a, b *flow.Record) int {
	return cmp.Or(cmp.Compare(key(b), key(a)), cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End),
		a.SrcAddr.Compare(b.SrcAddr), a.DstAddr.Compare(b.DstAddr), cmp.Compare(a.SrcPort, b.SrcPort),
		cmp.Compare(a.DstPort, b.DstPort), cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.SourceID, b.SourceID))
}
func (h *recHeap) Len() int           { return len(h.rows) }
func (h *recHeap) Less(i, j int) bool { return h.less(h.rows[i], h.rows[j]) }
func (h *recHeap) Swap(i, j int)      { h.rows[i], h.rows[j] = h.rows[j], h.rows[i] }
func (h *recHeap) Push(x any)         { h.rows = append(h.rows, x.(flow.Record)) }
func (h *recHeap) Pop() any {
	x := h.rows[len(h.rows)-1]
	h.rows = h.rows[:len(h.rows)-1]
	return x
}
