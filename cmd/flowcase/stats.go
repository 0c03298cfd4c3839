package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/flowcase/flowcase/detectors"
	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/query"
	"github.com/urfave/cli/v2"
)

func topCommand() *cli.Command {
	return &cli.Command{
		Name:  "top",
		Usage: "the top N groups by bytes, flows or packets (bytes = bytes_in + bytes_out)",
		Flags: append(rangeFlags(), formatFlag(""),
			&cli.StringFlag{Name: "by", Value: "srcip", Usage: "srcip|dstip|srcnet|dstnet|dstport|srcport|proto|pair|exporter"},
			&cli.IntFlag{Name: "mask4", Value: detectors.DefaultTopMask4, Usage: "srcnet, dstnet: the IPv4 prefix length (1-32)"},
			&cli.IntFlag{Name: "mask6", Value: detectors.DefaultTopMask6, Usage: "srcnet, dstnet: the IPv6 prefix length (1-128)"},
			&cli.StringFlag{Name: "order", Value: "bytes", Usage: "bytes|flows|packets"},
			&cli.IntFlag{Name: "n", Value: detectors.DefaultTopN, Usage: "how many"},
		),
		Action: func(c *cli.Context) error {
			setMemoryLimit() // its memory follows the case
			by, err := detectors.ParseTopKey(c.String("by"))
			if err != nil {
				return usageError{err}
			}
			order, err := detectors.ParseTopOrder(c.String("order"))
			if err != nil {
				return usageError{err}
			}
			sc, err := openScope(c)
			if err != nil {
				return err
			}
			defer sc.st.Close()
			m4, m6 := c.Int("mask4"), c.Int("mask6")
			if m4 < 1 || m4 > 32 || m6 < 1 || m6 > 128 {
				return usagef("--mask4 %d, --mask6 %d: want 1-32 and 1-128", m4, m6)
			}
			if n := c.Int("n"); n < 1 {
				return usagef("-n %d: want at least 1", n)
			}
			cfg := detectors.TopConfig{By: by, Order: order, N: c.Int("n"), Mask4: m4, Mask6: m6}
			res, err := scanTop(sc, cfg)
			if err != nil {
				return err
			}
			switch c.String("format") {
			case "json":
				return writeJSON(c.App.Writer, res)
			case "ndjson", "csv":
				return writeRowsOf(c.App.Writer, c.String("format"), res.Entries)
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "%s\tFLOWS\tBYTES\tPACKETS\t\n", c.String("by"))
			for _, e := range res.Entries {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", e.Key, e.Flows, e.Bytes, e.Packets)
			}
			fmt.Fprintf(tw, "total (%d groups)\t%d\t%d\t%d\t\n", res.Distinct, res.Total.Flows, res.Total.Bytes, res.Total.Packets)
			return tw.Flush()
		},
	}
}

// scanTop counts the scope's records in one Top per core and merges them
// into the first.
func scanTop(sc *scope, cfg detectors.TopConfig) (detectors.TopResult, error) {
	tops, err := scanParts(sc, topColumns(cfg.By), func() (*detectors.Top, func(*flow.Record) bool) {
		t := detectors.NewTop(cfg)
		return t, t.AddFunc()
	})
	if err != nil {
		return detectors.TopResult{}, err
	}
	if len(tops) == 0 {
		return detectors.NewTop(cfg).Result(), nil
	}
	for _, t := range tops[1:] {
		tops[0].Merge(t)
	}
	return tops[0].Result(), nil
}

// topColumns are the columns Top reads for a key.
func topColumns(by detectors.TopKey) index.Columns {
	c := index.ColCounters | index.ColSampling
	switch by {
	case detectors.BySrcIP:
		c |= index.ColSrcAddr
	case detectors.ByDstIP:
		c |= index.ColDstAddr
	case detectors.ByExporter:
		c |= index.ColExporter
	case detectors.ByDstPort:
		c |= index.ColDstPort
	case detectors.BySrcPort:
		c |= index.ColSrcPort
	case detectors.ByProto:
		c |= index.ColProto
	default:
		c |= index.ColAddrs
	}
	return c
}

func timelineCommand() *cli.Command {
	return &cli.Command{
		Name:  "timeline",
		Usage: "flows, bytes and packets per interval",
		Flags: append(rangeFlags(), formatFlag(""),
			&cli.StringFlag{Name: "every", Value: "1h", Usage: "interval width"}),
		Action: func(c *cli.Context) error {
			setMemoryLimit() // its memory follows the case
			every, err := query.ParseDuration(c.String("every"))
			if err != nil || every <= 0 {
				return usagef("--every %q: want a duration such as 1h", c.String("every"))
			}
			sc, err := openScope(c)
			if err != nil {
				return err
			}
			defer sc.st.Close()
			from, to := sc.bounds()
			// Buckets start on the --tz zone's hours and midnights.
			cfg := detectors.TimelineConfig{Every: every, From: from, To: to, Location: sc.tz}
			tls, err := scanParts(sc, index.ColTime|index.ColCounters|index.ColSampling,
				func() (*detectors.Timeline, func(*flow.Record) bool) {
					tl := detectors.NewTimeline(cfg)
					return tl, func(r *flow.Record) bool { tl.Add(r); return true }
				})
			if err != nil {
				return err
			}
			tl := detectors.NewTimeline(cfg)
			for _, t := range tls {
				tl.Merge(t)
			}
			buckets := tl.Buckets()
			if note := tl.SparseNote(); note != "" {
				fmt.Fprintln(c.App.ErrWriter, "note: "+note)
			}
			switch c.String("format") {
			case "json":
				return writeJSON(c.App.Writer, buckets)
			case "ndjson", "csv":
				return writeRowsOf(c.App.Writer, c.String("format"), buckets)
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, startHeader(sc.tz)+"\tFLOWS\tBYTES\tPACKETS\t")
			layout := bucketLayout(every)
			for _, b := range buckets {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", time.Unix(0, b.StartNS).In(sc.tz).Format(layout), b.Flows, b.Bytes, b.Packets)
			}
			return tw.Flush()
		},
	}
}

// bucketLayout is the time layout that tells buckets of width every
// apart: minutes for whole minutes, seconds for whole seconds, and
// milliseconds below (--every 10s had labelled six rows with one minute).
func bucketLayout(every time.Duration) string {
	switch {
	case every%time.Minute == 0:
		return "2006-01-02 15:04"
	case every%time.Second == 0:
		return "2006-01-02 15:04:05"
	case every%time.Millisecond == 0:
		return "2006-01-02 15:04:05.000"
	}
	return "2006-01-02 15:04:05.000000000"
}

func countCommand() *cli.Command {
	return &cli.Command{
		Name:  "count",
		Usage: "the number of flows in the range that match the filter",
		Description: "Without a filter, blocks wholly inside the range are counted from their headers and the\n" +
			"long flows of earlier partitions that reach into it from their manifests, so counting an hour\n" +
			"of a busy store reads at most the block at its end.",
		Flags: append(rangeFlags(), formatFlag("")),
		Action: func(c *cli.Context) error {
			sc, err := openScope(c)
			if err != nil {
				return err
			}
			defer sc.st.Close()
			n, _, err := query.Count(sc.st, query.Request{Range: sc.rng, Filter: sc.filter})
			if err != nil {
				return err
			}
			switch c.String("format") {
			case "json":
				return writeJSON(c.App.Writer, map[string]int64{"flows": n})
			case "ndjson", "csv":
				return writeRows(c.App.Writer, c.String("format"), []json.RawMessage{json.RawMessage(`{"flows":` + strconv.FormatInt(n, 10) + `}`)})
			}
			if note := sc.outsideNote(); n == 0 && note != "" {
				fmt.Fprintln(c.App.ErrWriter, "note: "+note)
			}
			_, err = fmt.Fprintln(c.App.Writer, n)
			return err
		},
	}
}
