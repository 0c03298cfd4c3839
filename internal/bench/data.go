package bench

import (
	"bufio"
	"cmp"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
	"github.com/flowcase/flowcase/internal/nfgen"
)

// Dataset times: the generator's flows start here.
var dataStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// The v9 exporter of the capture and the collector it sends to.
var (
	exporterAddr  = netip.MustParseAddrPort("192.0.2.1:2055")
	collectorAddr = netip.MustParseAddrPort("192.0.2.250:2055")
)

// dataset is the generated evidence and what is known about it from the
// generator itself (the truth the stores and peers are checked against).
type dataset struct {
	cfg     gen.Config
	Total   int    // flows generated (background and planted)
	NDJSON  string // every flow, one object a line
	Capture string // every flow, exported by one NetFlow v9 exporter
	Packets int    // export packets in the capture
	Bytes   struct{ NDJSON, Capture int64 }

	// The hour queried in the week: [HourFrom, HourTo), and a file of the
	// flows that overlap it (the flows a query of that hour returns).
	HourFrom, HourTo int64
	HourFile         string
	HourFlows        int

	// The address looked up: an IPv4 host in about 0.1% of the flows
	// that also appears in the hour.
	Addr      netip.Addr
	AddrFlows int // flows with Addr as source or destination
	AddrHour  int // of them, overlapping the hour

	// Top 20 sources by bytes: forward only and unsampled (what the v9
	// capture carries), and forward plus reverse times the sampling
	// interval (what `query top` makes of the JSON evidence).
	TopFwd, TopAll []topEntry
}

type topEntry struct {
	Addr  netip.Addr
	Flows uint64
	Bytes uint64
}

// genConfig is the generator's configuration for n background flows over
// days (planted events on top, so the detectors have something to find).
func genConfig(n, days int) gen.Config {
	return gen.Config{Flows: n, Start: dataStart, Span: time.Duration(days) * 24 * time.Hour, Seed: 1,
		IPv6Share: 0.1, Planted: true}
}

// sink consumes batches of generated flows, in order, on its own goroutine.
type sink interface {
	add(recs []flow.Record) error
	close() error
}

// fanOut runs the generator and hands batches of its flows to every sink
// (each on its own goroutine). It returns the number of flows.
func fanOut(cfg gen.Config, sinks ...sink) (int, error) {
	const batch = 8192
	chans := make([]chan []flow.Record, len(sinks))
	errs := make([]error, len(sinks))
	var wg sync.WaitGroup
	for i, s := range sinks {
		chans[i] = make(chan []flow.Record, 8)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for recs := range chans[i] {
				if errs[i] == nil {
					errs[i] = s.add(recs)
				}
			}
			if err := s.close(); errs[i] == nil {
				errs[i] = err
			}
		}()
	}
	n := 0
	buf := make([]flow.Record, 0, batch)
	send := func() {
		for _, c := range chans {
			c <- buf
		}
		buf = make([]flow.Record, 0, batch)
	}
	gen.Generate(cfg, func(r *flow.Record) {
		buf = append(buf, *r)
		n++
		if len(buf) == batch {
			send()
		}
	})
	if len(buf) > 0 {
		send()
	}
	for _, c := range chans {
		close(c)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// jsonSink writes flows as NDJSON or a JSON array.
type jsonSink struct {
	f  *os.File
	bw *bufio.Writer
	jw *gen.JSONWriter
	// keep, when set, selects the flows written.
	keep func(*flow.Record) bool
	n    int
}

func newJSONSink(path string, array bool) (*jsonSink, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 4<<20)
	return &jsonSink{f: f, bw: bw, jw: gen.NewJSONWriter(bw, array)}, nil
}

func (s *jsonSink) add(recs []flow.Record) error {
	for i := range recs {
		if s.keep != nil && !s.keep(&recs[i]) {
			continue
		}
		if err := s.jw.Write(&recs[i]); err != nil {
			return err
		}
		s.n++
	}
	return nil
}

func (s *jsonSink) close() error {
	err := s.jw.Close()
	if err == nil {
		err = s.bw.Flush()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// v9Sink exports flows into a NetFlow v9 capture with nfgen's Stream: one
// exporter, 30 records a packet, IPv4 and IPv6 templates resent every 20
// packets.
type v9Sink struct {
	f *os.File
	s *nfgen.Stream
}

func newV9Sink(path string) (*v9Sink, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	cw, err := nfgen.NewCaptureWriter(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	// Boot an hour before the first flow: sysUptime (ms, modulo 2^32) does
	// not wrap within 45 days.
	e := &nfgen.Exporter{Addr: exporterAddr, Version: 9, Domain: 1, Boot: dataStart.Add(-time.Hour).UnixNano()}
	if err := e.Define(nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()}, nfgen.Template{ID: 257, Fields: nfgen.IPv6Fields()}); err != nil {
		f.Close()
		return nil, err
	}
	return &v9Sink{f: f, s: &nfgen.Stream{Exporter: e, Writer: cw, Collector: collectorAddr, Template: 256, Template6: 257, TemplateEvery: 20}}, nil
}

func (v *v9Sink) add(recs []flow.Record) error {
	for i := range recs {
		if err := v.s.Add(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (v *v9Sink) close() error {
	err := v.s.Flush()
	if cerr := v.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// truthSink counts what the stores and peers must find.
type truthSink struct {
	hourFrom, hourTo int64
	src              map[netip.Addr]srcStat
	hosts            map[netip.Addr]int
	hourHosts        map[netip.Addr]int
	hour             int
}

type srcStat struct{ flows, fwd, all uint64 }

func (t *truthSink) add(recs []flow.Record) error {
	for i := range recs {
		r := &recs[i]
		s := t.src[r.SrcAddr]
		s.flows++
		s.fwd += r.Bytes
		// `query top` orders by bytes estimated from sampled counters.
		s.all += (r.Bytes + r.RevBytes) * uint64(max(r.SamplingInterval, 1))
		t.src[r.SrcAddr] = s
		t.hosts[r.SrcAddr]++
		if r.DstAddr != r.SrcAddr {
			t.hosts[r.DstAddr]++
		}
		if r.Start < t.hourTo && r.End >= t.hourFrom {
			t.hour++
			t.hourHosts[r.SrcAddr]++
			if r.DstAddr != r.SrcAddr {
				t.hourHosts[r.DstAddr]++
			}
		}
	}
	return nil
}

func (t *truthSink) close() error { return nil }

func (t *truthSink) top(bytes func(srcStat) uint64) []topEntry {
	var es []topEntry
	for a, s := range t.src {
		es = append(es, topEntry{Addr: a, Flows: s.flows, Bytes: bytes(s)})
	}
	slices.SortFunc(es, func(a, b topEntry) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return a.Addr.Compare(b.Addr)
	})
	return es[:min(20, len(es))]
}

// pickAddr chooses the looked-up address: IPv4, not a planted one, seen in
// the hour, with a flow count closest to 0.1% of the flows.
func (t *truthSink) pickAddr(total int) (netip.Addr, error) {
	target := max(total/1000, 10)
	planted := []netip.Addr{gen.ScanSource, gen.ScanTarget, gen.SweepSource, gen.ExfilSource, gen.ExfilDest,
		gen.BeaconSource, gen.BeaconDest, gen.RandomClient, gen.LongSessionIP}
	var best netip.Addr
	bestDist := -1
	for a, n := range t.hosts {
		if !a.Is4() || t.hourHosts[a] == 0 || slices.Contains(planted, a) {
			continue
		}
		d := n - target
		if d < 0 {
			d = -d
		}
		if bestDist < 0 || d < bestDist || (d == bestDist && a.Less(best)) {
			best, bestDist = a, d
		}
	}
	if bestDist < 0 {
		return best, fmt.Errorf("no IPv4 address appears in the hour queried")
	}
	return best, nil
}

// makeDataset writes the main pass: NDJSON, the v9 capture, the hour's
// flows, and (when array is not "") the same flows as a JSON array.
func makeDataset(dir string, cfg gen.Config, array string) (*dataset, error) {
	d := &dataset{cfg: cfg, NDJSON: filepath.Join(dir, "flows.ndjson"), Capture: filepath.Join(dir, "flows-v9.pcap"),
		HourFile: filepath.Join(dir, "hour.ndjson")}
	start := cfg.Start.UnixNano()
	d.HourFrom = start + int64(cfg.Span/2/time.Hour*time.Hour)
	d.HourTo = d.HourFrom + int64(time.Hour)
	nd, err := newJSONSink(d.NDJSON, false)
	if err != nil {
		return nil, err
	}
	hour, err := newJSONSink(d.HourFile, false)
	if err != nil {
		return nil, err
	}
	hour.keep = func(r *flow.Record) bool { return r.Start < d.HourTo && r.End >= d.HourFrom }
	v9, err := newV9Sink(d.Capture)
	if err != nil {
		return nil, err
	}
	truth := &truthSink{hourFrom: d.HourFrom, hourTo: d.HourTo, src: map[netip.Addr]srcStat{},
		hosts: map[netip.Addr]int{}, hourHosts: map[netip.Addr]int{}}
	sinks := []sink{nd, multiSink{v9, hour}, truth}
	if array != "" {
		arr, err := newJSONSink(array, true)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, arr)
	}
	if d.Total, err = fanOut(cfg, sinks...); err != nil {
		return nil, fmt.Errorf("cannot write the dataset: %w", err)
	}
	d.Packets = v9.s.Packets()
	if v9.s.Flows() != d.Total {
		return nil, fmt.Errorf("the capture holds %d flows, want %d", v9.s.Flows(), d.Total)
	}
	d.HourFlows = truth.hour
	if d.Addr, err = truth.pickAddr(d.Total); err != nil {
		return nil, err
	}
	d.AddrFlows, d.AddrHour = truth.hosts[d.Addr], truth.hourHosts[d.Addr]
	d.TopFwd = truth.top(func(s srcStat) uint64 { return s.fwd })
	d.TopAll = truth.top(func(s srcStat) uint64 { return s.all })
	d.Bytes.NDJSON, d.Bytes.Capture = fileSize(d.NDJSON), fileSize(d.Capture)
	return d, nil
}

// multiSink runs several sinks on one goroutine.
type multiSink []sink

func (m multiSink) add(recs []flow.Record) error {
	for _, s := range m {
		if err := s.add(recs); err != nil {
			return err
		}
	}
	return nil
}

func (m multiSink) close() error {
	var err error
	for _, s := range m {
		if cerr := s.close(); err == nil {
			err = cerr
		}
	}
	return err
}

// splitSink writes the flows, in order, into files NDJSON files of about
// equal counts, as a collector rotating its output every few minutes.
type splitSink struct {
	dir   string
	files int
	total int
	n     int
	cur   int
	out   *jsonSink
}

func (s *splitSink) add(recs []flow.Record) error {
	for i := range recs {
		idx := int(int64(s.n) * int64(s.files) / int64(max(s.total, 1)))
		if s.out == nil || idx != s.cur {
			if s.out != nil {
				if err := s.out.close(); err != nil {
					return err
				}
			}
			var err error
			if s.out, err = newJSONSink(filepath.Join(s.dir, fmt.Sprintf("part-%04d.ndjson", idx)), false); err != nil {
				return err
			}
			s.cur = idx
		}
		if err := s.out.add(recs[i : i+1]); err != nil {
			return err
		}
		s.n++
	}
	return nil
}

func (s *splitSink) close() error {
	if s.out == nil {
		return nil
	}
	return s.out.close()
}

// writeSmallFiles regenerates the same flows (the generator is
// deterministic) into files small NDJSON files under dir.
func writeSmallFiles(dir string, cfg gen.Config, files, total int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s := &splitSink{dir: dir, files: files, total: total}
	n, err := fanOut(cfg, s)
	if err == nil && n != total {
		err = fmt.Errorf("generated %d flows, want %d", n, total)
	}
	return err
}

// writeArray writes the flows of cfg as one JSON array (the seed's input).
func writeArray(path string, cfg gen.Config) (int, error) {
	s, err := newJSONSink(path, true)
	if err != nil {
		return 0, err
	}
	return fanOut(cfg, s)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
