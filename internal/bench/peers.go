package bench

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// seedResult compares the seed script with flowcase on the same flows.
type seedResult struct {
	Flows          int
	Seed, Analyze  proc    // the seed: its median run
	SeedWalls      samples // every seed run's wall time, s
	Report         samples // query report wall, s
	ReportRSS      samples // MB
	SeedTotal      int64   // total_flows of the seed's report
	AnalyzeTotal   int64
	SameStore      bool // the report ran on the week store
	PythonVersion  string
	SeedFile       string
	SeedFileBytes  int64
	ReportOnStore  string
	SeedReportJSON string
}

// seedPeer runs the seed script SeedRuns times on a JSON array of the
// flows (its median run is kept), and
// flowcase analyze once on the same file; `query report` on a store of the
// same flows comes from the runs on the week store (or, with --seed-flows
// smaller than --flows, from runs on a store of the seed's file).
func (b *bencher) seedPeer() error {
	script := b.cfg.SeedScript
	if _, err := os.Stat(script); err != nil {
		b.res.Skipped = append(b.res.Skipped, fmt.Sprintf("seed script: %s not found (--seed-script)", script))
		return nil
	}
	python, err := lookPath("python3")
	if err != nil {
		b.res.Skipped = append(b.res.Skipped, "seed script: "+err.Error())
		return nil
	}
	// Run the interpreter itself, not a version manager's shim in front of it.
	if p, err := b.run(command{Name: python, Args: []string{"-c", "import sys; print(sys.executable); print(sys.version.split()[0])"}, Capture: true}); err == nil {
		lines := strings.Fields(string(p.Out))
		if len(lines) == 2 {
			python = lines[0]
			b.res.seed.PythonVersion = lines[1]
		}
	}
	sr := &b.res.seed
	sr.Flows = b.cfg.SeedFlows
	file := b.res.seedArray
	if file == "" || b.cfg.SeedFlows != b.cfg.Flows {
		file = filepath.Join(b.dir, "seed-flows.json")
		b.logf("writing %d flows as a JSON array for the seed", b.cfg.SeedFlows)
		n, err := writeArray(file, genConfig(b.cfg.SeedFlows, b.cfg.Days))
		if err != nil {
			return err
		}
		sr.Flows = n
	} else {
		sr.Flows = b.data.Total
	}
	sr.SeedFile, sr.SeedFileBytes = file, fileSize(file)
	abs, _ := filepath.Abs(script)
	seedOut := filepath.Join(b.dir, "seed-report.json")
	var runs []proc
	for i := range b.cfg.SeedRuns {
		b.logf("seed script on %d flows (run %d of %d)", sr.Flows, i+1, b.cfg.SeedRuns)
		p, err := b.run(command{Dir: b.dir, Name: python, Args: []string{abs, "--flow-file", file, "--output", seedOut}})
		if err != nil {
			return err
		}
		b.logf("seed: %.1fs, %.0f MB peak", p.Wall.Seconds(), mb(p.MaxRSS))
		runs = append(runs, p)
		sr.SeedWalls = append(sr.SeedWalls, p.Wall.Seconds())
	}
	// The median run by time (its memory with it).
	slices.SortFunc(runs, func(a, b proc) int { return cmp.Compare(a.Wall, b.Wall) })
	sr.Seed = runs[len(runs)/2]
	if sr.SeedTotal, err = totalFlows(seedOut); err != nil {
		return err
	}
	b.logf("flowcase analyze on the same file (once)")
	anOut := filepath.Join(b.dir, "analyze-report.json")
	sr.Analyze, err = b.run(b.flowcase("analyze", "--flow-file", file, "--output", anOut))
	if err != nil {
		return err
	}
	b.logf("analyze: %.1fs, %.0f MB peak", sr.Analyze.Wall.Seconds(), mb(sr.Analyze.MaxRSS))
	if sr.AnalyzeTotal, err = totalFlows(anOut); err != nil {
		return err
	}
	b.res.check("the seed's and flowcase analyze's reports count the same flows", sr.SeedTotal == sr.AnalyzeTotal &&
		sr.SeedTotal == int64(sr.Flows), fmt.Sprintf("seed %d, analyze %d, generated %d", sr.SeedTotal, sr.AnalyzeTotal, sr.Flows))
	if file == b.res.seedArray {
		sr.SameStore = true
		sr.Report = append(samples{}, b.res.row("report.wall").Samples...)
		sr.ReportRSS = append(samples{}, b.res.row("report.rss").Samples...)
		return nil
	}
	store := filepath.Join(b.dir, "stores", "seed-flows")
	if err := b.ingestOnce("ingest.seed", file, store, sr.Flows); err != nil {
		return err
	}
	for range b.cfg.Runs {
		p, err := b.run(b.flowcase("query", "report", "--store", store))
		if err != nil {
			return err
		}
		sr.Report = append(sr.Report, p.Wall.Seconds())
		sr.ReportRSS = append(sr.ReportRSS, mb(p.MaxRSS))
	}
	return nil
}

// totalFlows reads total_flows of a report (the seed's key).
func totalFlows(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r struct {
		TotalFlows int64 `json:"total_flows"`
	}
	if err := json.NewDecoder(f).Decode(&r); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return r.TotalFlows, nil
}

// peerRuns is how many times each nfdump comparison runs, alternating
// with flowcase's: at least 11 unless --large. Each command takes well
// under a second at the default size, and the medians of five runs
// followed the machine's noise (three runs of one build gave the one-address
// ratio as 6.9x, 8.3x and 9.99x).
func peerRuns(cfg Config) int {
	if cfg.Large {
		return cfg.Runs
	}
	return max(cfg.Runs, 11)
}

// nfResult compares nfdump with flowcase on the flows of the v9 capture.
type nfResult struct {
	Version                string
	Replay                 replayStats
	NfcapdFlows            int64 // what nfdump -I counts in the nfcapd files
	Runs                   int   // of each timed command, alternating
	Top, TopFlowcase       samples
	TopAgree               bool
	TopDetail              string
	TopTruth               bool
	Host, HostFlowcase     samples
	HostRows, HostFlowRows int64
	TopCommand, HostCmd    string
	FlowcaseTop, FlowHost  string
}

// nfdumpPeer replays the v9 capture to nfcapd on loopback, then times
// nfdump against flowcase on the store ingested from the same capture.
func (b *bencher) nfdumpPeer() error {
	nfcapd, err := lookPath("nfcapd")
	if err != nil {
		b.res.Skipped = append(b.res.Skipped, "nfdump: "+err.Error()+" (Debian package nfdump)")
		return nil
	}
	nfdump, err := lookPath("nfdump")
	if err != nil {
		b.res.Skipped = append(b.res.Skipped, "nfdump: "+err.Error()+" (Debian package nfdump)")
		return nil
	}
	nr := &b.res.nf
	if p, err := b.run(command{Name: nfdump, Args: []string{"-V"}, Capture: true}); err == nil {
		nr.Version = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(p.Out)), "nfdump: "))
	}
	dir := filepath.Join(b.dir, "nfcapd")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	port, err := freeUDPPort()
	if err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(b.dir, "nfcapd.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	// Loopback only; a 4 MB socket buffer (the kernel doubles it); one file
	// an hour of wall time, so the whole replay lands in one or two files.
	cmd := exec.CommandContext(b.ctx, nfcapd, "-b", "127.0.0.1", "-p", fmt.Sprint(port), "-w", dir, "-t", "3600", "-B", "4194304")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("nfcapd did not stop within 60 s of SIGTERM")
		}
	}
	defer stop()
	if err := waitBound(port, 10*time.Second); err != nil {
		return err
	}
	b.logf("replaying %d export packets to nfcapd on 127.0.0.1:%d", b.data.Packets, port)
	if nr.Replay, err = replayCapture(b.data.Capture, port, 1<<20); err != nil {
		return err
	}
	b.logf("replayed %d datagrams in %s (%d waits for nfcapd, %d dropped by the kernel)", nr.Replay.Datagrams,
		nr.Replay.Elapsed.Round(time.Millisecond), nr.Replay.Waits, nr.Replay.Drops)
	// The queue is empty: nfcapd has read every datagram. Let it process
	// the last ones, then stop it (it closes its file on SIGTERM).
	time.Sleep(500 * time.Millisecond)
	if err := stop(); err != nil {
		return fmt.Errorf("nfcapd: %w", err)
	}
	p, err := b.run(command{Name: nfdump, Args: []string{"-R", dir, "-I"}, Capture: true})
	if err != nil {
		return err
	}
	if nr.NfcapdFlows, err = parseNfdumpStat(p.Out); err != nil {
		return err
	}
	b.res.check("nfcapd received every generated flow (nfdump -I)", nr.NfcapdFlows == int64(b.data.Total) && nr.Replay.Drops == 0,
		fmt.Sprintf("%d of %d flows, %d datagrams dropped by the kernel", nr.NfcapdFlows, b.data.Total, nr.Replay.Drops))

	topNf := command{Name: nfdump, Args: []string{"-R", dir, "-s", "srcip/bytes", "-n", "20"}, Capture: true}
	topFc := command{Name: b.cfg.Binary, Args: []string{"query", "top", "--store", b.v9, "--by", "srcip", "--order", "bytes", "-n", "20"}, Capture: true}
	hostNf := command{Name: nfdump, Args: []string{"-R", dir, "host " + b.data.Addr.String()}, Capture: true}
	hostFc := command{Name: b.cfg.Binary, Args: []string{"query", "flows", "--store", b.v9, "--filter", b.filter, "--format", "csv"}, Capture: true}
	nr.TopCommand, nr.FlowcaseTop = "nfdump -R DIR -s srcip/bytes -n 20", "flowcase query top --by srcip --order bytes -n 20"
	nr.HostCmd = "nfdump -R DIR " + shellQuote("host "+b.data.Addr.String())
	nr.FlowHost = "flowcase query flows --filter " + shellQuote(b.filter) + " --format csv"
	// One untimed run of each first, so both sides read from the page
	// cache: nfcapd has just written its files, while at 100M flows the
	// store, built first, may have been evicted by the files written after
	// it (in a 100M run, flowcase's top took 3.28 s here, against 1.72 s
	// for the same query on the NDJSON store minutes before).
	for _, c := range []command{topNf, topFc, hostNf, hostFc} {
		if _, err := b.run(c); err != nil {
			return err
		}
	}
	var fcTop []topEntry
	nr.Runs = peerRuns(b.cfg)
	for i := range nr.Runs {
		p, err := b.run(topNf)
		if err != nil {
			return err
		}
		nr.Top = append(nr.Top, p.Wall.Seconds())
		if _, _, err := parseNfdumpTop(p.Out); err != nil {
			return err
		}
		p, err = b.run(topFc)
		if err != nil {
			return err
		}
		nr.TopFlowcase = append(nr.TopFlowcase, p.Wall.Seconds())
		if fcTop, err = parseFlowcaseTop(p.Out); err != nil {
			return err
		}
		p, err = b.run(hostNf)
		if err != nil {
			return err
		}
		nr.Host = append(nr.Host, p.Wall.Seconds())
		if nr.HostRows, err = parseNfdumpSummary(p.Out); err != nil {
			return err
		}
		p, err = b.run(hostFc)
		if err != nil {
			return err
		}
		nr.HostFlowcase = append(nr.HostFlowcase, p.Wall.Seconds())
		nr.HostFlowRows = csvRows(p.Out)
		b.logf("nfdump run %d/%d: top %.3fs vs flowcase %.3fs; host %.3fs vs flowcase %.3fs", i+1, nr.Runs,
			nr.Top[i], nr.TopFlowcase[i], nr.Host[i], nr.HostFlowcase[i])
	}
	// The timed nfdump output scales its numbers (1.2 M) and may shorten
	// IPv6 addresses: compare exact figures from one more run with -N -6.
	p, err = b.run(command{Name: nfdump, Args: []string{"-R", dir, "-s", "srcip/bytes", "-n", "20", "-N", "-6"}, Capture: true})
	if err != nil {
		return err
	}
	nfTop, exact, err := parseNfdumpTop(p.Out)
	if err != nil {
		return err
	}
	nr.TopAgree, nr.TopDetail = sameTop(fcTop, nfTop, exact)
	nr.TopTruth, _ = sameTop(fcTop, b.data.TopFwd, true)
	b.res.check("nfdump's and flowcase's top 20 sources by bytes agree (addresses, order, flows, bytes)", nr.TopAgree, nr.TopDetail)
	b.res.check("flowcase's top 20 on the v9 store = the generator's (forward bytes: the capture has no reverse counters)", nr.TopTruth, "")
	b.res.check("nfdump and flowcase list the same flows of "+b.data.Addr.String(), nr.HostRows == nr.HostFlowRows && nr.HostRows == int64(b.data.AddrFlows),
		fmt.Sprintf("nfdump %d, flowcase %d, generated %d", nr.HostRows, nr.HostFlowRows, b.data.AddrFlows))
	return nil
}
