package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest"
	"github.com/flowcase/flowcase/ingest/meter"
	"github.com/flowcase/flowcase/query"
	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func ingestCommand() *cli.Command {
	return &cli.Command{
		Name:      "ingest",
		Usage:     "decode evidence files into the case store",
		ArgsUsage: "PATH... (files, directories, - for standard input)",
		Description: "Evidence: pcap/pcapng captures of NetFlow v1/v5/v7/v9 and IPFIX exports (on any UDP port,\n" +
			"IPFIX also over TCP, also inside VXLAN/GRE/ERSPAN; PSAMP packet reports become one-packet flows;\n" +
			"firewalls' NSEL events are flows, counted by event) and of sFlow v5 datagrams (each sample a\n" +
			"one-packet flow); JSON, NDJSON or CSV flow files (the seed's keys, what `flowcase query flows`\n" +
			"writes, nfdump, pmacct, goflow2, Filebeat/ECS, Logstash, Argus/CTU-13, CICFlowMeter, nProbe and\n" +
			"the NF-* datasets, Arkime); Zeek conn.log (TSV or JSON) and Suricata eve.json, also behind\n" +
			"syslog headers; firewall logs (Cisco ASA/FTD, FortiGate, Juniper SRX, Palo Alto CSV, Windows\n" +
			"Firewall, CEF, LEEF); Squid access.log; cloud flow logs (AWS VPC, Google Cloud, Azure NSG and\n" +
			"VNet); nfdump's nfcapd files (1.7 on); IPFIX Files (RFC 5655). Compressed with gzip, bzip2, xz or\n" +
			"zstd or not, alone or in zip/tar archives (each member a file of its own). A capture of the\n" +
			"traffic itself is metered into flows with --meter. Each file is registered by SHA-256: the same\n" +
			"bytes again are skipped, unless every record of it was rejected. Rejected records are counted\n" +
			"by reason; records that are not flows (a Suricata alert, a Zeek dns.log) are passed over and\n" +
			"counted; a killed ingest leaves nothing half-written.",
		Flags: []cli.Flag{
			storeFlag(),
			&cli.StringFlag{Name: "input", Value: ingest.InputAuto, Usage: "evidence format: auto|json|ndjson|syslog|csv|zeek|kv|w3c|asa|squid|azure|nfcapd|ipfix|pcap|pcapng"},
			&cli.StringFlag{Name: "partition", Usage: "time partition width of a new store (default 1h; fixed once created)"},
			&cli.StringFlag{Name: "assume-time", Usage: "time for records that carry none (otherwise they are rejected)"},
			&cli.StringFlag{Name: "input-tz", Usage: "time zone of zone-less times in the evidence (otherwise they are rejected)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bar"},
			&cli.UintFlag{Name: "port", Usage: "captures: decode only datagrams (and TCP streams) from or to this port"},
			&cli.BoolFlag{Name: "out-bytes-reverse", Usage: "NetFlow OUT_BYTES/OUT_PKTS (23/24) are the reverse direction (nProbe), not post-middlebox counters"},
			&cli.BoolFlag{Name: "meter", Usage: "captures of traffic: make flows from the packets themselves (a flow meter, one record per direction, as softflowd exports them) instead of reading NetFlow/IPFIX export packets in them"},
			&cli.StringFlag{Name: "meter-idle", Value: meter.DefaultIdle.String(), Usage: "with --meter: end a flow idle this long"},
			&cli.StringFlag{Name: "meter-active", Value: meter.DefaultActive.String(), Usage: "with --meter: end a flow that lasted this long (its next packet starts a new record)"},
			&cli.BoolFlag{Name: "no-compact", Usage: fmt.Sprintf("do not merge the small segments many small files leave (partitions with %d or more; see flowcase compact)", index.AutoCompactSmall)},
			&cli.IntFlag{Name: "segment-rows", Hidden: true, Usage: "rows per segment (tuning and tests)"},
		},
		Action: runIngest,
	}
}

func parseIngestOptions(c *cli.Context) (ingest.Options, time.Duration, error) {
	opt := ingest.Options{Input: strings.ToLower(c.String("input")), Version: version, Stdin: c.App.Reader,
		OutBytesReverse: c.Bool("out-bytes-reverse"), Meter: c.Bool("meter")}
	for _, t := range []struct {
		flag string
		to   *time.Duration
	}{{"meter-idle", &opt.MeterConfig.Idle}, {"meter-active", &opt.MeterConfig.Active}} {
		d, err := query.ParseDuration(c.String(t.flag))
		if err != nil || d <= 0 {
			return opt, 0, usagef("--%s %q: want a duration such as 15s", t.flag, c.String(t.flag))
		}
		*t.to = d
	}
	if p := c.Uint("port"); p > 65535 {
		return opt, 0, usagef("--port %d: want 1-65535", p)
	} else {
		opt.Port = uint16(p)
	}
	if opt.Meter && opt.Port != 0 {
		return opt, 0, usagef("--port selects export packets to decode; with --meter every packet is metered")
	}
	switch opt.Input {
	case ingest.InputAuto, ingest.InputJSON, ingest.InputNDJSON, ingest.InputZeek, ingest.InputCSV, ingest.InputPcap, ingest.InputPcapng,
		ingest.InputNfcapd, ingest.InputIPFIX, ingest.InputAzure, ingest.InputKV, ingest.InputW3C, ingest.InputASA, ingest.InputSquid, ingest.InputSyslog:
	default:
		return opt, 0, usagef("--input %q: want auto, json, ndjson, syslog, csv, zeek, kv, w3c, asa, squid, azure, nfcapd, ipfix, pcap or pcapng", opt.Input)
	}
	var width time.Duration
	if p := c.String("partition"); p != "" {
		d, err := query.ParseDuration(p)
		if err != nil || d <= 0 {
			return opt, 0, usagef("--partition %q: want a duration such as 1h", p)
		}
		width = d
	}
	if tz := c.String("input-tz"); tz != "" {
		loc, err := query.ParseZone(tz)
		if err != nil {
			return opt, 0, usagef("--input-tz: %v", err)
		}
		opt.InputTZ = loc
	}
	if at := c.String("assume-time"); at != "" {
		t, err := query.ParseTime(at, time.Now(), 0)
		if err != nil {
			return opt, 0, usagef("--assume-time: %v", err)
		}
		opt.AssumeTime = t
	}
	return opt, width, nil
}

func runIngest(c *cli.Context) error {
	setMemoryLimit() // its memory follows the case
	if c.NArg() == 0 {
		return usagef("ingest: no evidence given (files, directories or -)")
	}
	opt, width, err := parseIngestOptions(c)
	if err != nil {
		return err
	}
	st, err := openWrite(c, width)
	if err != nil {
		return err
	}
	defer st.Close()
	if cl := st.Cleaned; cl.Any() {
		fmt.Fprintf(c.App.ErrWriter, "removed what a killed ingest left: %d pending sources, %d segments, %d orphan keys\n",
			cl.PendingSources, cl.Segments, cl.OrphanKeys)
	}
	var bar *progressbar.ProgressBar
	if !c.Bool("quiet") && isTerminal(c.App.ErrWriter) {
		opt.Progress = func(file string, done, total int64) {
			if bar == nil || bar.GetMax64() != total {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(c.App.ErrWriter),
					progressbar.OptionSetDescription(shorten(file, 40)), progressbar.OptionShowBytes(true),
					progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
			}
			bar.Set64(done)
		}
	}
	sum, err := ingest.Run(st, c.Args().Slice(), opt)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	var compacted string
	if !c.Bool("no-compact") {
		// Many small files leave many small segments per partition: merge
		// them now, atomically per partition, as flowcase compact would.
		cs, err := st.CompactMany()
		if err != nil {
			return fmt.Errorf("ingested, then cannot compact (run flowcase compact): %w", err)
		}
		if cs.Partitions > 0 {
			compacted = fmt.Sprintf("compacted %d partitions: %d segments into %d, %d flows rewritten\n",
				cs.Partitions, cs.SegmentsBefore, cs.SegmentsAfter, cs.Rows)
		}
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("cannot close store: %w", err)
	}
	err = reportIngest(c.App.ErrWriter, sum)
	fmt.Fprint(c.App.ErrWriter, compacted)
	return err
}

func reportIngest(w io.Writer, sum *ingest.Summary) error {
	var skipped []string // the first maxListed of them
	notEvidence := 0     // files (and archive members) not recognised as evidence
	passed := 0          // skipped for another reason than not being evidence
	for _, f := range sum.Files {
		// An archive's members skipped for one reason beyond the few
		// listed by name are counted in one result.
		if n, reason := ingest.MoreMembers(f); n > 0 {
			switch {
			case reason == ingest.SkippedFormat:
				notEvidence += n
			case f.Duplicate:
				fmt.Fprintf(w, "%s: unchanged, %d more members %s\n", f.Path, n, reason)
			default:
				fmt.Fprintf(w, "%s: skipped %d more members: %s\n", f.Path, n, oneLine(reason))
				passed += n
			}
			continue
		}
		switch {
		case f.Duplicate:
			fmt.Fprintf(w, "%s: unchanged, %s\n", f.Path, f.Skipped)
		case f.Skipped == ingest.SkippedFormat:
			if notEvidence++; len(skipped) < maxListed {
				skipped = append(skipped, f.Path)
			}
		case f.Skipped != "":
			fmt.Fprintf(w, "%s: skipped: %s\n", f.Path, f.Skipped)
			passed++
		}
		if f.Err != nil {
			// Joined errors, one a line (each line kept to one line).
			for line := range strings.SplitSeq(f.Err.Error(), "\n") {
				if line != "" {
					fmt.Fprintf(w, "error: %s\n", oneLine(line))
				}
			}
		}
		if len(f.Rejected) > 0 {
			fmt.Fprintf(w, "%s: rejected %s\n", f.Path, formatReasons(f.Rejected))
			for _, ex := range f.Examples {
				fmt.Fprintf(w, "  %s: %s\n", f.Path, oneLine(ex))
			}
		}
		for _, n := range f.Notes {
			fmt.Fprintf(w, "%s: %s\n", f.Path, oneLine(n))
		}
		if f.Assumed > 0 {
			fmt.Fprintf(w, "%s: %d records had no time and took --assume-time\n", f.Path, f.Assumed)
		}
	}
	if notEvidence > 0 {
		more := ""
		if n := notEvidence - len(skipped); n > 0 {
			more = fmt.Sprintf(" and %d more", n)
		}
		fmt.Fprintf(w, "skipped %d files not recognised as evidence: %s%s\n", notEvidence, strings.Join(skipped, ", "), more)
	}
	reportWaiting(w, sum)
	rate := float64(sum.Flows) / max(sum.Elapsed.Seconds(), 1e-9)
	fmt.Fprintf(w, "ingested %d flows from %d files in %s (%.0f flows/s), %d rejected, %d skipped\n",
		sum.Flows, countIngested(sum), sum.Elapsed.Round(time.Millisecond), rate, sum.Rejected, notEvidence+passed)
	switch {
	case sum.Failed():
		return exitCode(exitFailed)
	case sum.Rejected > 0:
		return exitCode(exitRejected)
	}
	return nil
}

// maxListed is how many files not recognised as evidence the summary
// names; the others are counted ("and N more").
const maxListed = 20

// reportWaiting says what waits in the store for templates after the run,
// unless the one file ingested already said all of it.
func reportWaiting(w io.Writer, sum *ingest.Summary) {
	sets, parked := 0, 0
	for _, x := range sum.Waiting {
		sets += x.Sets
	}
	for _, f := range sum.Files {
		parked += f.Parked
	}
	if sets == 0 || (len(sum.Files) == 1 && sets == parked) {
		return
	}
	fmt.Fprintf(w, "%d data sets wait in the store for templates no file has brought yet; they decode when evidence with them is ingested:\n", sets)
	const show = 10
	for i, x := range sum.Waiting {
		if i == show {
			fmt.Fprintf(w, "  and %d more templates (flowcase info lists them all)\n", len(sum.Waiting)-show)
			break
		}
		fmt.Fprintf(w, "  %d data sets (%d bytes) from %s domain %d wait for template %d\n", x.Sets, x.Bytes, x.Exporter, x.ObservationDomain, x.TemplateID)
	}
}

func countIngested(sum *ingest.Summary) int {
	n := 0
	for _, f := range sum.Files {
		if f.Skipped == "" && f.Format != "" {
			n++
		}
	}
	return n
}

func formatReasons(m map[string]int64) string {
	var parts []string
	for _, k := range ingest.SortedReasons(m) {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n+3:]
}

// oneLine returns s as one line of valid UTF-8: quoted as Go does when it
// holds control characters or invalid bytes (a file name with a newline
// must not write a line of its own into the summary).
func oneLine(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strconv.Quote(s)
}
