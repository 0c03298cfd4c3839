package main

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowcase/flowcase/detectors"
	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/jsonout"
	"github.com/flowcase/flowcase/query"
	"github.com/urfave/cli/v2"
)

// detectorCommand builds `query scans|sweeps|exfil|beacons|baseline|report`:
// each runs the detectors over the range and filter and writes its part.
func detectorCommand(name, usage string, part string, flags ...[]cli.Flag) *cli.Command {
	all := append(rangeFlags(), formatFlag(""))
	for _, f := range flags {
		all = append(all, f...)
	}
	return &cli.Command{
		Name:  name,
		Usage: usage,
		Flags: all,
		Action: func(c *cli.Context) error {
			setMemoryLimit() // its memory follows the case
			format := c.String("format")
			sc, err := openScope(c)
			if err != nil {
				return err
			}
			defer sc.st.Close()
			cfg, err := suiteConfig(c, sc)
			if err != nil {
				return err
			}
			rep, err := runSuite(sc, cfg)
			if err != nil {
				return err
			}
			switch format {
			case "json":
				return writeJSON(c.App.Writer, reportPart(rep, part))
			case "ndjson", "csv":
				rows, err := findingRows(rep, part, format)
				if err != nil {
					return err
				}
				return writeRows(c.App.Writer, format, rows)
			}
			writeReportTable(c.App.Writer, rep, part, sc.tz)
			return nil
		},
	}
}

// detectorGCPercent is the collector's GOGC while the detectors run,
// unless the GOGC environment variable says otherwise. The heap peaks at
// about live state × (1 + GOGC/100), and the detectors' state (millions of
// pairs) is live to the end: 40 instead of Go's 100 took the peak RSS of
// `query report` on a 5M-flow week (282 MB of state) from ~641 MB to
// ~537 MB, about 1/10 of the seed script's, for more, cheap collections
// (the state holds no pointers): GC CPU ~0.25 s -> ~0.5 s by gctrace.
const detectorGCPercent = 40

// lowerGC sets detectorGCPercent unless GOGC is set and returns the undo.
func lowerGC() func() {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(detectorGCPercent)
	return func() { debug.SetGCPercent(old) }
}

// runSuite feeds the history and the range to every detector.
func runSuite(sc *scope, cfg detectors.SuiteConfig) (*detectors.Report, error) {
	defer lowerGC()()
	suite := detectors.NewSuite(cfg)
	defer suite.Close()
	if err := feedHistory(sc, suite.Config().Exfil.History, suite.AddHistory); err != nil {
		return nil, err
	}
	st, err := feed(sc, query.DetectorColumns, suite.Add)
	if err != nil {
		return nil, err
	}
	rep := suite.Report(reportMeta(sc, st))
	return rep, sc.finish(rep)
}

// reportPart is the JSON of one command: the whole report, or its
// provenance with one detector's findings.
func reportPart(rep *detectors.Report, part string) any {
	if part == "report" {
		return rep
	}
	head := map[string]any{
		"timestamp": rep.Timestamp, "version": rep.Version, "store": rep.Store, "range": rep.Range,
		"filter": rep.Filter, "total_flows": rep.TotalFlows,
	}
	switch part {
	case "scans":
		head["parameters"] = map[string]any{"connections": rep.Parameters.Connections, "scan": rep.Parameters.Scan}
		head["port_scans"] = filterScans(rep, true)
	case "sweeps":
		head["parameters"] = map[string]any{"connections": rep.Parameters.Connections, "sweep": rep.Parameters.Sweep}
		head["port_scans"] = filterScans(rep, false)
	case "exfil":
		head["parameters"] = map[string]any{"connections": rep.Parameters.Connections, "exfil": rep.Parameters.Exfil}
		head["exfiltration_candidates"] = rep.ExfiltrationCandidates
		head["warnings"] = rep.Warnings
	case "beacons":
		head["parameters"] = map[string]any{"connections": rep.Parameters.Connections, "beacon": rep.Parameters.Beacon}
		head["beaconing_patterns"] = rep.BeaconingPatterns
	case "baseline":
		head["parameters"] = map[string]any{"baseline": rep.Parameters.Baseline}
		head["baseline"] = rep.Baseline
	}
	head["notes"] = rep.Notes
	return head
}

func filterScans(rep *detectors.Report, vertical bool) []detectors.PortScanEntry {
	out := []detectors.PortScanEntry{}
	for _, e := range rep.PortScans {
		if (e.Scan != nil) == vertical {
			out = append(out, e)
		}
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	return jsonout.NewEncoder(w, "  ").Encode(v)
}

// tableTime writes a time of a finding in the zone of --tz.
func tableTime(tz *time.Location, ns int64) string {
	return time.Unix(0, ns).In(tz).Format(time.RFC3339Nano)
}

func writeReportTable(w io.Writer, rep *detectors.Report, part string, tz *time.Location) {
	fmt.Fprintf(w, "range %s .. %s", tableTime(tz, rep.Range.FromNS), tableTime(tz, rep.Range.ToNS))
	if rep.Filter != "" {
		fmt.Fprintf(w, ", filter %q", rep.Filter)
	}
	fmt.Fprintf(w, ": %d flows\n", rep.TotalFlows)
	show := func(p string) bool { return part == "report" || part == p }
	if show("scans") {
		writeScans(w, filterScans(rep, true), tz)
	}
	if show("sweeps") {
		writeSweeps(w, filterScans(rep, false), tz)
	}
	if show("exfil") {
		writeExfil(w, rep.ExfiltrationCandidates, tz)
	}
	if show("beacons") {
		writeBeacons(w, rep.BeaconingPatterns, tz)
	}
	if show("baseline") {
		writeBaseline(w, rep.Baseline, tz)
	}
	// The warnings are the exfiltration detector's: its table's and the
	// report's alone, as in JSON.
	var notes []string
	if part == "report" || part == "exfil" {
		notes = slices.Clone(rep.Warnings)
	}
	for _, s := range append(notes, rep.Notes...) {
		fmt.Fprintf(w, "note: %s\n", s)
	}
	if part == "report" {
		s := rep.Summary
		fmt.Fprintf(w, "\nsummary: %d scan alerts (%d vertical scans, %d sweeps), %d exfiltration alerts, %d beacon alerts\n",
			s.ScanAlerts, s.VerticalScans, s.Sweeps, s.ExfilAlerts, s.BeaconAlerts)
	}
}

func section(w io.Writer, title string, n int) *tabwriter.Writer {
	fmt.Fprintf(w, "\n%s (%d)\n", title, n)
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// maxScansPerSource is the most vertical scans of one source a table
// lists: a masscan of 100 ports over a /16 is 65,536 of them, which made a
// table of 131,072 lines. The rest are counted in a line of their own;
// --format json, ndjson or csv lists every one.
const maxScansPerSource = 20

func writeScans(w io.Writer, es []detectors.PortScanEntry, tz *time.Location) {
	tw := section(w, "vertical port scans", len(es))
	if len(es) > 0 {
		fmt.Fprintln(tw, "SOURCE\tTARGET\tKIND\tPORTS\tFAILED\tSCORE\tFIRST SEEN\tLAST SEEN\tPORTS SAMPLE")
	}
	type more struct {
		scans, ports int
	}
	listed, rest := map[netip.Addr]int{}, map[netip.Addr]*more{}
	var order []netip.Addr // sources with scans left out, as they first came
	shown := es[:0:0]
	for _, e := range es {
		s := e.Scan
		if listed[s.Source] >= maxScansPerSource {
			m := rest[s.Source]
			if m == nil {
				m = &more{}
				rest[s.Source] = m
				order = append(order, s.Source)
			}
			m.scans++
			m.ports += s.UniquePorts
			continue
		}
		listed[s.Source]++
		shown = append(shown, e)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.0f%%\t%.2f\t%s\t%s\t%s\n", s.Source, s.Target, s.Kind, s.UniquePorts, 100*s.FailedShare,
			s.Score, tableTime(tz, s.FirstSeenNS), tableTime(tz, s.LastSeenNS), portList(s.PortsSample))
	}
	tw.Flush()
	for _, e := range shown {
		fmt.Fprintf(w, "  %s -> %s: %s\n", e.Scan.Source, e.Scan.Target, e.Scan.Query)
	}
	for _, src := range order {
		m := rest[src]
		fmt.Fprintf(w, "  %s: %d more vertical scans not listed (%d ports in all; the table lists %d a source, --format json, ndjson or csv every one)\n",
			src, m.scans, m.ports, maxScansPerSource)
	}
}

func writeSweeps(w io.Writer, es []detectors.PortScanEntry, tz *time.Location) {
	tw := section(w, "network sweeps", len(es))
	if len(es) > 0 {
		fmt.Fprintln(tw, "SOURCE\tPORTS\tTARGETS\tFAILED\tSCORE\tFIRST SEEN\tLAST SEEN")
	}
	for _, e := range es {
		s := e.Sweep
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f%%\t%.2f\t%s\t%s\n", s.Source, sweptPorts(s.Ports), s.UniqueTargets, 100*s.FailedShare,
			s.Score, tableTime(tz, s.FirstSeenNS), tableTime(tz, s.LastSeenNS))
	}
	tw.Flush()
	for _, e := range es {
		fmt.Fprintf(w, "  %s: %s\n", e.Sweep.Source, e.Sweep.Query)
	}
}

func writeExfil(w io.Writer, es []detectors.ExfilFinding, tz *time.Location) {
	tw := section(w, "exfiltration candidates", len(es))
	if len(es) > 0 {
		fmt.Fprintln(tw, "SOURCE\tDESTINATION\tKIND\tOUT MB\tIN MB\tOUT/IN\tOPENER\tSCORE\tFIRST SEEN\tLAST SEEN")
	}
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%s\t%.2f\t%s\t%s\n", e.Source, addrOrDash(e.Destination), e.Kind,
			e.TotalMB, float64(e.InBytes)/1e6, e.OutInRatio, e.Opener, e.Score, tableTime(tz, e.FirstSeenNS), tableTime(tz, e.LastSeenNS))
	}
	tw.Flush()
	for _, e := range es {
		if e.Query != "" {
			fmt.Fprintf(w, "  %s -> %s: %s\n", e.Source, addrOrDash(e.Destination), e.Query)
		}
	}
}

func writeBeacons(w io.Writer, es []detectors.BeaconFinding, tz *time.Location) {
	tw := section(w, "beacons", len(es))
	if len(es) > 0 {
		fmt.Fprintln(tw, "SOURCE\tDESTINATION\tPORT\tCONNECTIONS\tMEDIAN INTERVAL\tJITTER\tSCORE\tFIRST SEEN\tLAST SEEN")
	}
	for _, e := range es {
		conns := strconv.FormatUint(e.ConnectionCount, 10)
		if e.Beats > 0 {
			conns += " in " + strconv.FormatUint(e.Beats, 10) + " beats"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%s\t%s\t%.1fs\t%.3f\t%.2f\t%s\t%s\n", e.Source, e.Destination, e.Port, e.Proto,
			conns, e.MedianInterval, e.JitterRatio, e.Score, tableTime(tz, e.FirstSeenNS), tableTime(tz, e.LastSeenNS))
	}
	tw.Flush()
	for _, e := range es {
		fmt.Fprintf(w, "  %s -> %s:%d: %s\n", e.Source, e.Destination, e.Port, e.Query)
	}
}

func writeBaseline(w io.Writer, b detectors.BaselineSummary, tz *time.Location) {
	fmt.Fprintf(w, "\nbaseline: %d flows, %d bytes (%d forward, %d reverse), %d packets, %s .. %s\n",
		b.TotalFlows, b.TotalBytes, b.BytesIn, b.BytesOut, b.Packets+b.PacketsOut, tableTime(tz, b.FirstSeenNS), tableTime(tz, b.LastSeenNS))
	type kv struct {
		k string
		v uint64
	}
	// Protocols by bytes, named (the JSON keeps the seed's numbers).
	var mix []kv
	for p, n := range b.ProtocolDistribution {
		if num, err := strconv.ParseUint(p, 10, 8); err == nil {
			p = flow.ProtoName(uint8(num))
		}
		mix = append(mix, kv{p, n})
	}
	slices.SortFunc(mix, func(a, b kv) int { return cmp.Or(cmp.Compare(b.v, a.v), strings.Compare(a.k, b.k)) })
	protos := make([]string, len(mix))
	for i, m := range mix {
		protos[i] = fmt.Sprintf("%s %d", m.k, m.v)
	}
	fmt.Fprintf(w, "protocol bytes: %s\n", strings.Join(protos, ", "))
	if b.TimelineNote != "" {
		fmt.Fprintf(w, "note: %s\n", b.TimelineNote)
	}
	var ps []string
	for _, p := range b.TopPorts { // most flows first
		ps = append(ps, fmt.Sprintf("%d:%d", p.Port, p.Flows))
	}
	fmt.Fprintf(w, "top destination ports (flows): %s\n", strings.Join(ps, " "))
}

func portList(ps []uint16) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ",")
}

func addrOrDash(a interface{ IsValid() bool }) string {
	if !a.IsValid() {
		return "-"
	}
	return fmt.Sprint(a)
}

// sweptPorts lists a sweep's ports with their protocols ("22/tcp,3389/tcp",
// "echo/icmp"): the table showed the first alone. Beyond sweptPortsMax
// ports, they go in port order, runs of three or more as ranges, at most
// sweptPortsMax terms ("1-1000/tcp,3000/tcp,... +2 ports"): a masscan of
// every port of a network made a row of 644 kB.
func sweptPorts(ps []detectors.SweptPort) string {
	name := func(p detectors.SweptPort) string {
		if p.Port == 0 && strings.HasPrefix(p.Proto, "icmp") {
			return "echo/" + p.Proto
		}
		return strconv.Itoa(int(p.Port)) + "/" + p.Proto
	}
	var parts []string
	if len(ps) <= sweptPortsMax {
		for _, p := range ps {
			parts = append(parts, name(p))
		}
		return strings.Join(parts, ",")
	}
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b detectors.SweptPort) int {
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port))
	})
	left := len(ps)
	for i := 0; i < len(ps) && len(parts) < sweptPortsMax; {
		j := i + 1
		for j < len(ps) && ps[j].Proto == ps[i].Proto && ps[j].Port == ps[j-1].Port+1 {
			j++
		}
		if j-i < 3 {
			j = i + 1
			parts = append(parts, name(ps[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d/%s", ps[i].Port, ps[j-1].Port, ps[i].Proto))
		}
		left -= j - i
		i = j
	}
	if left > 0 {
		parts = append(parts, fmt.Sprintf("... +%d ports", left))
	}
	return strings.Join(parts, ",")
}

// sweptPortsMax is the most ports (or terms) a sweep's row lists.
const sweptPortsMax = 10
