package index

import (
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowcase/flowcase/internal/flow"
)

const (
	// batchRows is how many rows a partition worker hands over at once.
	batchRows = 1024
	// partsAhead is how many partitions per worker an ordered parallel
	// scan may decode ahead of its consumer.
	partsAhead = 4
)

// partResult carries one partition's rows, in order, from its worker.
type partResult struct {
	batches chan []flow.Record
	st      ScanStats
	err     error
}

// scanParallel decodes partitions on q.Parallel worker goroutines and
// calls fn on their rows in partition order: the callback sees exactly what
// a serial scan would show it. Workers take partitions in order and may run
// ahead of the consumer by at most partsAhead partitions each: a
// partition's slot is freed when its rows have been consumed, not when they
// are decoded, so memory stays bounded however many small partitions finish
// ahead of the consumer, while a selective query's many tiny partitions do
// not wait for the consumer one by one.
func (s *Store) scanParallel(q Query, parts [][]*Manifest, st *ScanStats, fn func(*flow.Record) bool) error {
	results := make([]*partResult, len(parts))
	for i := range results {
		results[i] = &partResult{batches: make(chan []flow.Record, 4)}
	}
	window := partsAhead * q.Parallel
	// Batches go back to the workers once consumed, so a scan allocates
	// about (window+1) x 5 of them, not one per 1024 rows.
	free := make(chan []flow.Record, (window+1)*5)
	done := make(chan struct{})
	slots := make(chan struct{}, window)
	next := make(chan int)
	var wg sync.WaitGroup
	go func() {
		defer close(next)
		for i := range parts {
			select {
			case slots <- struct{}{}:
			case <-done:
				for _, r := range results[i:] {
					close(r.batches)
				}
				return
			}
			next <- i
		}
	}()
	for range min(q.Parallel, len(parts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			txn := s.db.NewTransaction(false)
			defer txn.Discard()
			for i := range next {
				select {
				case <-done:
					close(results[i].batches) // stopped: nothing more to decode
				default:
					s.producePartition(txn, q, parts[i], results[i], done, free)
				}
			}
		}()
	}
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
			select {
			case free <- batch[:0]:
			default:
			}
		}
		<-slots // this partition is consumed: another may start
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

func (s *Store) producePartition(txn *badger.Txn, q Query, segs []*Manifest, r *partResult, done <-chan struct{}, free chan []flow.Record) {
	defer close(r.batches)
	newBatch := func() []flow.Record {
		select {
		case b := <-free:
			return b
		default:
			// Small at first: a selective query's partitions hand over
			// a few rows each; append grows it to batchRows.
			return make([]flow.Record, 0, 16)
		}
	}
	var batch []flow.Record // taken at the first row: most partitions of a selective query have none
	send := func() bool {
		select {
		case r.batches <- batch:
			batch = nil
			return true
		case <-done:
			return false
		}
	}
	stopped := false
	_, r.err = s.scanPartition(txn, q, segs, &r.st, func(rec *flow.Record) bool {
		if batch == nil {
			batch = newBatch()
		}
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

// ScanEach is Scan for consumers that do not need an order (counts, sums):
// up to workers goroutines each take whole partitions and hand their rows
// to a consumer of their own, made by newConsumer, so no rows are copied
// between goroutines. The caller merges the consumers' results. Rows reach
// each consumer in segment order within a partition; a consumer returning
// false stops the scan.
func (s *Store) ScanEach(q Query, workers int, newConsumer func() func(*flow.Record) bool) (ScanStats, error) {
	if q.Ordered {
		return ScanStats{}, fmt.Errorf("BUG: ScanEach cannot keep an order")
	}
	var st ScanStats
	if q.Columns == 0 {
		q.Columns = AllColumns
	}
	txn := s.db.NewTransaction(false)
	parts, digest, err := s.plan(txn, q, &st)
	txn.Discard()
	st.ManifestDigest = digest
	if err != nil {
		return st, err
	}
	workers = max(1, min(workers, len(parts)))
	next := make(chan []*Manifest)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		stopped bool
		firstE  error
	)
	stop := make(chan struct{})
	for range workers {
		fn := newConsumer()
		wg.Add(1)
		go func() {
			defer wg.Done()
			txn := s.db.NewTransaction(false)
			defer txn.Discard()
			var ws ScanStats
			for segs := range next {
				ok, err := s.scanPartition(txn, q, segs, &ws, fn)
				if err != nil || !ok {
					mu.Lock()
					if err != nil && firstE == nil {
						firstE = err
					}
					if !stopped {
						stopped = true
						close(stop)
					}
					mu.Unlock()
					break
				}
			}
			mu.Lock()
			st.add(ws)
			mu.Unlock()
		}()
	}
feed:
	for _, segs := range parts {
		select {
		case next <- segs:
		case <-stop:
			break feed
		}
	}
	close(next)
	wg.Wait()
	return st, firstE
}
