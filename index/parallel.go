package index

import (
	"sync"

	"github.com/flowcase/flowcase/internal/flow"
)

// batchRows is how many rows a partition worker hands over at once.
const batchRows = 1024

// partResult carries one partition's rows, in order, from its worker.
type partResult struct {
	batches chan []flow.Record
	st      ScanStats
	err     error
}

// scanParallel decodes partitions in goroutines, at most q.Parallel at a
// time, and calls fn on their rows in partition order: the callback sees
// exactly what a serial scan would show it. Memory is bounded by the
// partitions in flight and their batch channels.
func (s *Store) scanParallel(q Query, parts [][]*Manifest, st *ScanStats, fn func(*flow.Record) bool) error {
	results := make([]*partResult, len(parts))
	for i := range results {
		results[i] = &partResult{batches: make(chan []flow.Record, 4)}
	}
	done := make(chan struct{})
	sem := make(chan struct{}, q.Parallel)
	var wg sync.WaitGroup
	go func() {
		for i, segs := range parts {
			select {
			case sem <- struct{}{}:
			case <-done:
				for _, r := range results[i:] {
					close(r.batches)
				}
				return
			}
			wg.Add(1)
			go func(r *partResult, segs []*Manifest) {
				defer wg.Done()
				defer func() { <-sem }()
				s.producePartition(q, segs, r, done)
			}(results[i], segs)
		}
	}()
	var err error
	stopped := false
	for _, r := range results {
		for batch := range r.batches {
			for i := range batch {
				if stopped {
					break
				}
				if !fn(&batch[i]) {
					stopped = true
					close(done)
				}
			}
		}
		if stopped {
			break
		}
		st.add(r.st)
		if r.err != nil {
			err = r.err
			close(done)
			stopped = true
			break
		}
	}
	if stopped {
		// Let every worker see done and finish before returning.
		for _, r := range results {
			for range r.batches {
			}
		}
	}
	wg.Wait()
	return err
}

func (s *Store) producePartition(q Query, segs []*Manifest, r *partResult, done <-chan struct{}) {
	defer close(r.batches)
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	batch := make([]flow.Record, 0, batchRows)
	send := func() bool {
		select {
		case r.batches <- batch:
			batch = make([]flow.Record, 0, batchRows)
			return true
		case <-done:
			return false
		}
	}
	stopped := false
	_, r.err = s.scanPartition(txn, q, segs, &r.st, func(rec *flow.Record) bool {
		batch = append(batch, *rec)
		if len(batch) == batchRows && !send() {
			stopped = true
			return false
		}
		return true
	})
	if !stopped && len(batch) > 0 {
		send()
	}
}

// add merges a partition worker's counts (not those counted when planning).
func (st *ScanStats) add(o ScanStats) {
	st.Blocks += o.Blocks
	st.BlocksRead += o.BlocksRead
	st.RowsDecoded += o.RowsDecoded
	st.RowsEmitted += o.RowsEmitted
}
