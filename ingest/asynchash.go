package ingest

import (
	"hash"
	"sync"
)

// asyncHash hashes what is written to it on a goroutine of its own, off
// the decoder's path: each write is copied and queued. Sum waits for the
// queue; Close ends the goroutine without a sum.
type asyncHash struct {
	h     hash.Hash
	queue chan []byte
	free  chan []byte
	done  chan struct{}
	once  sync.Once
}

func newAsyncHash(h hash.Hash) *asyncHash {
	a := &asyncHash{h: h, queue: make(chan []byte, 4), free: make(chan []byte, 6), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for b := range a.queue {
			a.h.Write(b)
			select {
			case a.free <- b[:0]:
			default:
			}
		}
	}()
	return a
}

func (a *asyncHash) Write(p []byte) (int, error) {
	var b []byte
	select {
	case b = <-a.free:
	default:
	}
	a.queue <- append(b, p...)
	return len(p), nil
}

// Close ends the hashing goroutine; more writes are not allowed.
func (a *asyncHash) Close() {
	a.once.Do(func() { close(a.queue) })
	<-a.done
}

// Sum returns the hash of everything written, once all is hashed.
func (a *asyncHash) Sum() []byte {
	a.Close()
	return a.h.Sum(nil)
}
