package ingest

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/nfcapd"
	"github.com/flowcase/flowcase/internal/flow"
)

// nfcapdDecoder reads an nfdump file and keeps what its header and records
// say of where the flows came from.
type nfcapdDecoder struct{ *nfcapd.Reader }

// Next reads the next flow, and keeps the reader's count of flows by
// exporter and domain within exporterTable's limits: the file's exporter
// records give each sysid a 32-bit domain of the writer's choosing, and a
// file redefining one for every flow had made a row (and, in the source's
// record, a JSON entry) per flow.
func (d nfcapdDecoder) Next(rec *flow.Record) bool {
	ok := d.Reader.Next(rec)
	if len(d.Exporters) > 2*maxExporterEntries {
		foldNfcapdExporters(d.Exporters)
	}
	return ok
}

// The reader's Exporters map keys the rows that count many together by
// their address (or 0.0.0.0, ::) as an IPv6 address with one of these
// zones (the file's own addresses have none).
const (
	zoneOtherDomains   = "other-domains"
	zoneOtherExporters = "other-exporters"
)

func markOther(a netip.Addr, zone string) netip.Addr {
	if a.Is4() {
		zone += "-4"
	}
	return netip.AddrFrom16(a.As16()).WithZone(zone)
}

// otherOf tells whether an address is a markOther one, and its address
// and kind (otherDomains, otherExporters).
func otherOf(a netip.Addr) (netip.Addr, string) {
	z := a.Zone()
	kind, v4 := strings.CutSuffix(z, "-4")
	switch kind {
	case zoneOtherDomains:
		kind = otherDomains
	case zoneOtherExporters:
		kind = otherExporters
	default:
		return a, ""
	}
	a = a.WithZone("")
	if v4 {
		a = a.Unmap()
	}
	return a, kind
}

// foldNfcapdExporters keeps at most maxDomainsPerExporter rows of an
// address, and maxExporterEntries rows in all, the largest first: the
// flows of the others are added to their address's other-domains row, or
// (no room for it) to the other-exporters row.
func foldNfcapdExporters(m map[nfcapd.Exporter]uint64) {
	type row struct {
		e nfcapd.Exporter
		n uint64
	}
	rows := make([]row, 0, len(m))
	kept := 0
	perAddr := map[netip.Addr]int{}
	for e, n := range m {
		if _, kind := otherOf(e.Addr); kind != "" {
			kept++ // rows of others stay
			continue
		}
		rows = append(rows, row{e, n})
	}
	if len(rows) <= maxDomainsPerExporter && kept == 0 {
		return // nothing to fold: no address can be beyond its limit
	}
	slices.SortFunc(rows, func(a, b row) int {
		if a.n != b.n {
			return cmp.Compare(b.n, a.n)
		}
		if c := a.e.Addr.Compare(b.e.Addr); c != 0 {
			return c
		}
		return cmp.Compare(a.e.Domain, b.e.Domain)
	})
	for _, r := range rows {
		a := r.e.Addr
		if perAddr[a] < maxDomainsPerExporter && kept < maxExporterEntries {
			perAddr[a]++
			kept++
			continue
		}
		delete(m, r.e)
		to := nfcapd.Exporter{Addr: markOther(unspecifiedLike(a), zoneOtherExporters)}
		if perAddr[a] >= maxDomainsPerExporter {
			od := nfcapd.Exporter{Addr: markOther(a, zoneOtherDomains)}
			if _, ok := m[od]; ok || kept < maxExporterEntries {
				if !ok {
					kept++
				}
				to = od
			}
		}
		m[to] += r.n
	}
}

func (d nfcapdDecoder) finish(_ *index.SourceResult, extra map[string]any, fr *FileResult) error {
	h := d.Header
	v := fmt.Sprintf("%d.%d.%d", h.NfdumpVersion>>24&0xFF, h.NfdumpVersion>>16&0xFF, h.NfdumpVersion>>8&0xFF)
	foldNfcapdExporters(d.Exporters)
	byExporter := make(map[string]uint64, len(d.Exporters))
	// info's exporters table lists them too (the file keeps no export
	// packets, ports or domains of theirs: only flows).
	t := newExporterTable()
	exporters := 0
	for e, n := range d.Exporters {
		a, kind := otherOf(e.Addr)
		name := a.String()
		switch {
		case kind == otherDomains:
			name += " other domains"
		case kind == otherExporters:
			name = "other exporters"
		case e.Domain != 0:
			name += fmt.Sprintf(" domain %d", e.Domain)
		}
		byExporter[name] += n // both families' "other exporters" rows are one
		if kind == "" {
			exporters++
		}
		k := domainKey{addr: a, domain: e.Domain, other: kind}
		t.m[k] = &exporterStats{Address: a.String(), ObservationDomain: e.Domain, Flows: n, Versions: []uint16{}, Other: kind}
	}
	extra["nfcapd"] = map[string]any{"nfdump_version": v, "created": h.Created, "compression": h.CompressionName(),
		"flows_by_exporter": byExporter}
	extra["exporters"] = t.list()
	plural := "s"
	if exporters == 1 {
		plural = ""
	}
	more := ""
	if len(d.Exporters) > exporters {
		more = " and more (counted together, below)"
	}
	fr.Notes = append(fr.Notes, fmt.Sprintf("nfdump %s file, %s, flows from %d exporter%s%s", v, h.CompressionName(), exporters, plural, more))
	fr.Examples = append(fr.Examples, d.Examples...)
	fr.Notes = append(fr.Notes, t.notes()...)
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
