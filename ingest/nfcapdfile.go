package ingest

import (
	"fmt"

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
	for a, n := range d.Exporters {
		byExporter[a.String()] = n
	}
	extra["nfcapd"] = map[string]any{"nfdump_version": v, "created": h.Created, "compression": h.CompressionName(),
		"flows_by_exporter": byExporter}
	// info's exporters table lists them too (the file keeps no export
	// packets, ports or domains of theirs: only flows).
	exps := make([]*exporterStats, 0, len(d.Exporters))
	for a, n := range d.Exporters {
		exps = append(exps, &exporterStats{Address: a.String(), Flows: n, Versions: []uint16{}})
	}
	sortExporters(exps)
	extra["exporters"] = exps
	plural := "s"
	if len(byExporter) == 1 {
		plural = ""
	}
	fr.Notes = append(fr.Notes, fmt.Sprintf("nfdump %s file, %s, flows from %d exporter%s", v, h.CompressionName(), len(byExporter), plural))
	fr.Examples = append(fr.Examples, d.Examples...)
	return nil
}
