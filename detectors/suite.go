package detectors

import (
	"net/netip"
	"runtime"

	"github.com/flowcase/flowcase/internal/flow"
)

// SuiteConfig configures every detector of a Suite. The zero value means
// the defaults everywhere.
type SuiteConfig struct {
	// Serial runs every detector on the caller's goroutine. By default,
	// when GOMAXPROCS > 1, scans, sweeps and beacons run on a worker
	// goroutine fed with batches of connections; the results are the same.
	Serial   bool
	Conn     ConnConfig
	Scan     ScanConfig
	Sweep    SweepConfig
	Exfil    ExfilConfig
	Beacon   BeaconConfig
	Baseline BaselineConfig
}

// WithRange sets the range (unix ns, half-open [from, to)) on every part
// that uses it: the exfiltration history anchor, beacon coverage and the
// baseline's timeline.
func (c SuiteConfig) WithRange(from, to int64) SuiteConfig {
	c.Exfil.From, c.Exfil.To = from, to
	c.Beacon.From, c.Beacon.To = from, to
	c.Baseline.From, c.Baseline.To = from, to
	return c
}

// WithObserved sets the range's observed time (BeaconConfig.Observed).
func (c SuiteConfig) WithObserved(observed int64) SuiteConfig {
	c.Beacon.Observed = observed
	return c
}

// WithInternal sets the internal networks.
func (c SuiteConfig) WithInternal(nets []netip.Prefix) SuiteConfig {
	c.Exfil.Internal = nets
	return c
}

// Suite runs all detectors and the baseline over one stream of records,
// joining records into connections once for all of them. Feed the Suite
// (not its members) with Add and AddHistory; read the members' Findings,
// or Report.
type Suite struct {
	tr       *tracker
	pipe     *pipe         // to the worker goroutine, or inline when serial
	buf      []flow.Record // records not yet processed (see Add)
	ids      []recIDs
	touched  uint64 // keeps flushRecords' loads alive
	cfg      SuiteConfig
	Scan     *Scan
	Sweep    *Sweep
	Exfil    *Exfil
	Beacon   *Beacon
	Baseline *Baseline
}

// NewSuite returns a suite of all detectors.
func NewSuite(cfg SuiteConfig) *Suite {
	cfg.Conn = cfg.Conn.withDefaults()
	cfg.Scan.Conn, cfg.Sweep.Conn, cfg.Exfil.Conn, cfg.Beacon.Conn = cfg.Conn, cfg.Conn, cfg.Conn, cfg.Conn
	tr := newTracker(cfg.Conn)
	s := &Suite{
		tr: tr, Scan: newScan(cfg.Scan), Sweep: newSweep(cfg.Sweep), Exfil: newExfil(cfg.Exfil),
		Beacon: newBeacon(cfg.Beacon), Baseline: NewBaseline(cfg.Baseline),
	}
	s.Scan.tr, s.Sweep.tr, s.Exfil.tr, s.Beacon.tr = tr, tr, tr, tr
	s.Baseline.addrs = tr.addrs
	serial := cfg.Serial || runtime.GOMAXPROCS(0) == 1
	s.pipe = newPipe([]connSink{s.Scan, s.Sweep, s.Beacon}, serial)
	if !serial {
		s.Beacon.workers = runtime.GOMAXPROCS(0)
	}
	tr.sinks = []connSink{s.pipe}
	s.Scan.sync, s.Sweep.sync, s.Beacon.sync = s.drain, s.drain, s.drain
	s.Exfil.sync, s.Baseline.sync = s.flushRecords, s.flushRecords
	s.buf, s.ids = make([]flow.Record, 0, suiteBatch), make([]recIDs, suiteBatch)
	s.cfg = SuiteConfig{Serial: serial, Conn: cfg.Conn, Scan: s.Scan.cfg, Sweep: s.Sweep.cfg, Exfil: s.Exfil.cfg,
		Beacon: s.Beacon.cfg, Baseline: s.Baseline.cfg}
	return s
}

// Add feeds one record of the range; records must come in non-decreasing
// Start order. The pointer is not kept.
//
// Records are copied into a batch of suiteBatch and processed together:
// first the address ids of all and a touch of the exfiltration state each
// will need, so their cache misses overlap, then each record in order.
// Every result waits for the batch (Report and the members' Findings,
// Summary and Warnings flush it).
func (s *Suite) Add(r *flow.Record) {
	s.buf = append(s.buf, *r)
	if len(s.buf) == cap(s.buf) {
		s.flushRecords()
	}
}

// suiteBatch is the number of records processed together.
const suiteBatch = 256

// recIDs are a batched record's address ids and, when it has one, its
// exfiltration pair's host and hash (host 0: none).
type recIDs struct {
	src, dst, host uint32
	hash           uint64
}

// flushRecords processes the batched records.
func (s *Suite) flushRecords() {
	// Loads of the address slots and the baseline's port counters the
	// batch needs, independent of each other: their misses overlap.
	var sum uint64
	ports := s.Baseline.ports
	for i := range s.buf {
		r := &s.buf[i]
		sum += s.tr.addrs.peek(r.SrcAddr) + s.tr.addrs.peek(r.DstAddr) + ports[r.DstPort].Flows
	}
	s.touched += sum
	for i := range s.buf {
		r := &s.buf[i]
		src, dst := s.tr.addrs.id(r.SrcAddr), s.tr.addrs.id(r.DstAddr)
		h, host := s.Exfil.plan(r, src, dst)
		s.ids[i] = recIDs{src, dst, host, h}
	}
	s.Exfil.prefetch(s.ids, s.buf)
	s.Baseline.prefetch(s.ids)
	for i := range s.buf {
		r := &s.buf[i]
		v := s.tr.addIDs(r, s.ids[i].src, s.ids[i].dst)
		s.Exfil.add(r, v)
		s.Baseline.add(r, v.src)
	}
	s.buf = s.buf[:0]
}

// drain brings every record fed so far into the detectors' state.
func (s *Suite) drain() {
	s.flushRecords()
	s.tr.flush()
	s.pipe.drain()
}

// Close stops the worker goroutine, if one runs. Report and the members'
// Findings stop it too; a Suite abandoned without any of them keeps it
// (idle) until Close.
func (s *Suite) Close() { s.drain() }

// AddHistory feeds one record of the exfiltration history (before the
// range, in start order, before the range's records).
func (s *Suite) AddHistory(r *flow.Record) {
	if len(s.buf) > 0 {
		s.flushRecords()
	}
	s.Exfil.AddHistory(r)
}

// Config returns the configuration in force, defaults filled in.
func (s *Suite) Config() SuiteConfig { return s.cfg }

// Report runs every detector's Findings and builds the report.
func (s *Suite) Report(meta ReportMeta) *Report {
	return BuildReport(ReportInput{
		Meta:       meta,
		Parameters: ParametersOf(s.cfg),
		Baseline:   s.Baseline.Summary(),
		Scans:      s.Scan.Findings(),
		Sweeps:     s.Sweep.Findings(),
		Exfil:      s.Exfil.Findings(),
		Beacons:    s.Beacon.Findings(),
		Warnings:   s.Exfil.Warnings(),
	})
}
