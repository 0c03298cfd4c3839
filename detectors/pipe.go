package detectors

// pipe runs the connection sinks (scan, sweep, beacon) on a worker
// goroutine: the tracker's emitted connections are copied into batches and
// handed over in order, so the sinks see exactly what they would see
// inline. The worker starts with the first batch and stops at the next
// drain (a report or a member's Findings); at most pipeDepth batches are
// in flight. An inline pipe (a serial Suite) hands each batch to the sinks
// on the caller's goroutine instead.
type pipe struct {
	sinks   []connSink
	inline  bool
	cur     []conn
	work    chan []conn
	free    chan []conn
	stopped chan struct{}
	running bool
}

// batchSink is a connSink that takes a batch of connections at once, in
// order, as addConn would one by one: it may first touch the state the
// batch needs, so the cache misses of many connections overlap instead of
// stalling one by one.
type batchSink interface{ addConns(cs []conn) }

const (
	pipeBatch = 1024
	pipeDepth = 4
)

func newPipe(sinks []connSink, inline bool) *pipe {
	return &pipe{sinks: sinks, inline: inline, free: make(chan []conn, pipeDepth+2)}
}

func (p *pipe) addConn(c *conn) {
	if p.cur == nil {
		p.cur = p.buffer()
	}
	p.cur = append(p.cur, *c)
	if len(p.cur) == pipeBatch {
		p.send()
	}
}

func (p *pipe) buffer() []conn {
	select {
	case b := <-p.free:
		return b[:0]
	default:
		return make([]conn, 0, pipeBatch)
	}
}

func (p *pipe) send() {
	if p.inline {
		p.process(p.cur)
		p.cur = p.cur[:0]
		return
	}
	if !p.running {
		p.work, p.stopped, p.running = make(chan []conn, pipeDepth), make(chan struct{}), true
		go p.run(p.work, p.stopped)
	}
	p.work <- p.cur
	p.cur = nil
}

func (p *pipe) run(work <-chan []conn, stopped chan<- struct{}) {
	for b := range work {
		p.process(b)
		select {
		case p.free <- b:
		default:
		}
	}
	close(stopped)
}

// process hands a batch to every sink, sink by sink: each keeps its
// working set in cache over the batch and may look ahead (batchSink).
func (p *pipe) process(b []conn) {
	for _, s := range p.sinks {
		if bs, ok := s.(batchSink); ok {
			bs.addConns(b)
			continue
		}
		for i := range b {
			s.addConn(&b[i])
		}
	}
}

// drain hands over the last batch and waits until the worker has
// processed everything and stopped.
func (p *pipe) drain() {
	if len(p.cur) > 0 {
		p.send()
	}
	if p.running {
		close(p.work)
		<-p.stopped
		p.running = false
	}
}
