package ingest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/nfcapd"
)

// nfcapdDecoder reads an nfdump file and keeps what its header and records
// say of where the flows came from.
type nfcapdDecoder struct{ *nfcapd.Reader }

func (d nfcapdDecoder) finish(_ *index.SourceResult, extra map[string]any, fr *FileResult) error {
	h := d.Header
	v := fmt.Sprintf("%d.%d.%d", h.NfdumpVersion>>24&0xFF, h.NfdumpVersion>>16&0xFF, h.NfdumpVersion>>8&0xFF)
	byExporter := make(map[string]uint64, len(d.Exporters))
	for e, n := range d.Exporters {
		name := e.Addr.String()
		if e.Domain != 0 {
			name += fmt.Sprintf(" domain %d", e.Domain)
		}
		byExporter[name] = n
	}
	extra["nfcapd"] = map[string]any{"nfdump_version": v, "created": h.Created, "compression": h.CompressionName(),
		"flows_by_exporter": byExporter}
	// info's exporters table lists them too (the file keeps no export
	// packets, ports or domains of theirs: only flows).
	exps := make([]*exporterStats, 0, len(d.Exporters))
	for e, n := range d.Exporters {
		exps = append(exps, &exporterStats{Address: e.Addr.String(), ObservationDomain: e.Domain, Flows: n, Versions: []uint16{}})
	}
	sortExporters(exps)
	extra["exporters"] = exps
	plural := "s"
	if len(byExporter) == 1 {
		plural = ""
	}
	fr.Notes = append(fr.Notes, fmt.Sprintf("nfdump %s file, %s, flows from %d exporter%s", v, h.CompressionName(), len(byExporter), plural))
	fr.Examples = append(fr.Examples, d.Examples...)
	fr.Notes = append(fr.Notes, d.notes(extra)...)
	return nil
}

// notes says what of the file is not flows, or was kept as it came.
func (d nfcapdDecoder) notes(extra map[string]any) []string {
	var notes []string
	if len(d.Skipped) > 0 {
		extra["not_read"] = d.Skipped
		names := slices.Sorted(maps.Keys(d.Skipped))
		parts := make([]string, len(names))
		for i, k := range names {
			parts[i] = fmt.Sprintf("%d %s", d.Skipped[k], k)
		}
		notes = append(notes, "not flows, or not read: "+strings.Join(parts, ", "))
	}
	for _, c := range []struct {
		n    uint64
		text string
	}{
		{d.EventTimed, "%d records had no start: placed at their firewall or NAT event's time, as nfdump shows them"},
		{d.Early, "%d flows are dated before 1990 (a collector's record without times, or an exporter's clock never set): kept at those times"},
		{d.Inverted, "%d flow records end before they start: each is kept with its end set to its start"},
		{d.Sampled, "%d records are marked sampled: their counters are as the collector stored them"},
	} {
		if c.n > 0 {
			notes = append(notes, fmt.Sprintf(c.text, c.n))
		}
	}
	if d.Aggregated > 0 {
		notes = append(notes, fmt.Sprintf("%d records each aggregate several flows (nfdump -a), %d flows in all: each is one flow here", d.Aggregated, d.AggregatedFlows))
	}
	return notes
}
