package main

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest"
	"github.com/flowcase/flowcase/internal/jsonout"
	"github.com/urfave/cli/v2"
)

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "what the case store holds: time span, flows, partitions, size, sources",
		Flags: []cli.Flag{storeFlag(), formatFlag(" (ndjson and csv: the sources, one a row)")},
		Action: func(c *cli.Context) error {
			st, err := openRead(c)
			if err != nil {
				return err
			}
			defer st.Close()
			info, err := gatherInfo(st)
			if err != nil {
				return err
			}
			switch c.String("format") {
			case "json":
				return jsonout.NewEncoder(c.App.Writer, "  ").Encode(info)
			case "ndjson", "csv":
				// The evidence register: one row per ingested file.
				return writeRowsOf(c.App.Writer, c.String("format"), info.Sources)
			}
			writeInfoTable(c.App.Writer, info)
			return nil
		},
	}
}

type infoSource struct {
	ID          uint32           `json:"id"`
	Path        string           `json:"path"`
	SHA256      string           `json:"sha256"`
	Format      string           `json:"format"`
	Size        int64            `json:"size"`
	IngestedAt  time.Time        `json:"ingested_at"`
	Version     string           `json:"flowcase_version"`
	Flows       int64            `json:"flows"`
	Rejected    map[string]int64 `json:"rejected"`
	AssumedTime int64            `json:"assumed_time"`
	Status      string           `json:"status"`
}

type storeInfo struct {
	Store          string                `json:"store"`
	StoreID        string                `json:"store_id"`
	Format         uint32                `json:"format_version"`
	PartitionWidth string                `json:"partition_width"`
	Flows          int64                 `json:"flows"`
	First          *time.Time            `json:"first"`
	Last           *time.Time            `json:"last"`
	Partitions     int                   `json:"partitions"`
	Segments       int                   `json:"segments"`
	BytesOnDisk    int64                 `json:"bytes_on_disk"`
	DataBytes      uint64                `json:"data_bytes"`
	IndexBytes     uint64                `json:"index_bytes"`
	DataPerFlow    float64               `json:"data_bytes_per_flow"`
	IndexPerFlow   float64               `json:"index_bytes_per_flow"`
	IndexByField   map[string]uint64     `json:"index_bytes_by_field"`
	AssumedTime    int64                 `json:"assumed_time"`
	Compactions    int                   `json:"compactions"`
	Sources        []infoSource          `json:"sources"`
	Exporters      []ingest.ExporterInfo `json:"exporters"`
	Waiting        []ingest.Waiting      `json:"waiting_for_templates"`
}

func gatherInfo(st *index.Store) (*storeInfo, error) {
	stats, err := st.Stats()
	if err != nil {
		return nil, err
	}
	srcs, err := st.Sources()
	if err != nil {
		return nil, err
	}
	m := st.Meta()
	info := &storeInfo{
		Store: absPath(st.Dir()), StoreID: m.StoreID, Format: m.Format, PartitionWidth: time.Duration(m.PartitionWidth).String(),
		Flows: stats.Flows, Partitions: stats.Partitions, Segments: stats.Segments, BytesOnDisk: st.DiskUsage(),
		DataBytes: stats.DataBytes, IndexBytes: stats.IndexTotal(), IndexByField: map[string]uint64{},
		Sources: []infoSource{},
	}
	if stats.Flows > 0 {
		first, last := time.Unix(0, stats.MinStart).UTC(), time.Unix(0, stats.MaxEnd).UTC()
		info.First, info.Last = &first, &last
		info.DataPerFlow = round2(float64(stats.DataBytes+stats.HeaderBytes) / float64(stats.Flows))
		info.IndexPerFlow = round2(float64(stats.IndexTotal()) / float64(stats.Flows))
	}
	for _, f := range index.IndexedFields {
		info.IndexByField[index.FieldName(f)] = stats.IndexBytes[f]
	}
	if info.Exporters, info.Waiting, err = ingest.Exporters(st); err != nil {
		return nil, err
	}
	for _, s := range srcs {
		if s.Format == index.FormatCompaction {
			info.Compactions++
			continue
		}
		if s.Rejected == nil {
			s.Rejected = map[string]int64{}
		}
		info.AssumedTime += s.AssumedTime
		info.Sources = append(info.Sources, infoSource{ID: s.ID, Path: s.Path, SHA256: s.SHA256, Format: s.Format,
			Size: s.Size, IngestedAt: s.IngestedAt, Version: s.Version, Flows: s.Flows, Rejected: s.Rejected,
			AssumedTime: s.AssumedTime, Status: s.Status})
	}
	return info, nil
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

func writeInfoTable(w io.Writer, info *storeInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "store\t%s (id %s, format %d)\n", info.Store, info.StoreID, info.Format)
	fmt.Fprintf(tw, "flows\t%d\n", info.Flows)
	if info.First != nil {
		fmt.Fprintf(tw, "time span\t%s .. %s\n", info.First.Format(time.RFC3339Nano), info.Last.Format(time.RFC3339Nano))
	}
	fmt.Fprintf(tw, "partitions\t%d of %s, %d segments\n", info.Partitions, info.PartitionWidth, info.Segments)
	fmt.Fprintf(tw, "size on disk\t%d bytes\n", info.BytesOnDisk)
	fmt.Fprintf(tw, "bytes per flow\tdata %.2f, indexes %.2f", info.DataPerFlow, info.IndexPerFlow)
	if info.Flows > 0 {
		for _, f := range index.IndexedFields {
			n := index.FieldName(f)
			fmt.Fprintf(tw, ", %s %.2f", n, float64(info.IndexByField[n])/float64(info.Flows))
		}
	}
	fmt.Fprintln(tw)
	if info.AssumedTime > 0 {
		fmt.Fprintf(tw, "assumed times\t%d records took --assume-time\n", info.AssumedTime)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nsources (%d)\n", len(info.Sources))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tFLOWS\tREJECTED\tFORMAT\tSIZE\tINGESTED\tSHA-256\tPATH")
	for _, s := range info.Sources {
		rej := "0"
		if len(s.Rejected) > 0 {
			rej = formatReasons(s.Rejected)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\n", s.ID, s.Status, s.Flows, rej, s.Format, s.Size,
			s.IngestedAt.Format(time.RFC3339), s.SHA256[:16], oneLine(s.Path))
	}
	tw.Flush()
	writeExporters(w, info)
}

func writeExporters(w io.Writer, info *storeInfo) {
	if len(info.Exporters) > 0 {
		fmt.Fprintf(w, "\nexporters (%d)\n", len(info.Exporters))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EXPORTER\tDOMAIN\tVERSIONS\tPACKETS\tFLOWS\tTEMPLATES\tSAMPLING\tSEQ GAPS\tLOST\tDUPLICATES\tCLOCK SKEW")
		for _, e := range info.Exporters {
			exp := e.Address
			if a, err := netip.ParseAddr(e.Address); err == nil {
				exp = netip.AddrPortFrom(a, e.Port).String()
			}
			domain := strconv.FormatUint(uint64(e.ObservationDomain), 10)
			if e.Other != "" { // a row of the many the sender chose, counted together
				domain = "other " + e.Other
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d\t%d\t1:%d\t%d\t%d\t%d\t%.3fs\n", exp,
				domain, strings.Join(e.Protocols, ","), e.Packets, e.Flows, e.Templates, e.SamplingInterval, e.SequenceGaps, e.Lost, e.Duplicates, e.ClockSkewSeconds)
		}
		tw.Flush()
	}
	for i, wt := range info.Waiting {
		if i == maxWaitingShown {
			fmt.Fprintf(w, "waiting: and %d more (info --format json lists them)\n", len(info.Waiting)-i)
			break
		}
		fmt.Fprintf(w, "waiting: %d data sets (%d bytes) from %s domain %d for template %d\n",
			wt.Sets, wt.Bytes, wt.Exporter, wt.ObservationDomain, wt.TemplateID)
	}
}

// maxWaitingShown bounds the table's lines of data waiting for templates.
const maxWaitingShown = 20
