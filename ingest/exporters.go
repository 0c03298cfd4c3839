package ingest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/netflow"
)

// ExporterInfo summarises one exporter's observation domain over every
// ingested capture, for `flowcase info`.
type ExporterInfo struct {
	Address           string   `json:"address"`
	Port              uint16   `json:"port"`
	ObservationDomain uint32   `json:"observation_domain"`
	Versions          []uint16 `json:"versions"`
	// Protocols names Versions: v5, v9, ipfix, sflow5 (whose number in
	// Versions is netflow.VersionSFlow5), nfcapd for nfdump's files.
	Protocols        []string `json:"protocols"`
	Packets          uint64   `json:"packets"`
	Flows            uint64   `json:"flows"`
	Templates        int      `json:"templates"`
	SamplingInterval uint32   `json:"sampling_interval"` // from options data; 1 when none
	SequenceGaps     uint64   `json:"sequence_gaps"`     // breaks in the export sequence
	Lost             uint64   `json:"lost"`              // units the gaps skipped (v9: packets, v5/IPFIX: records)
	Duplicates       uint64   `json:"duplicates"`        // export packets skipped as already ingested
	ClockSkewSeconds float64  `json:"clock_skew_seconds"`
	// Other marks a row that counts many together: "domains", the
	// observation domains of its address beyond maxDomainsPerExporter (port
	// and domain 0); "exporters", the exporters beyond maxExporterEntries
	// (address 0.0.0.0 or ::).
	Other string `json:"other,omitempty"`
}

// Limits on the exporter statistics kept. Observation domain (v9 source,
// sFlow sub-agent) ids are 32-bit values the sender chooses: one row per
// id let an exporter sending from a million domains take gigabytes, and
// its source's record grew past what the store holds in a value (128 MiB),
// so the whole file failed with its valid flows. An address keeps at most
// maxDomainsPerExporter rows; the packets and flows of its other domains
// are counted in one row marked Other "domains". A source keeps at most
// maxExporterEntries rows (under 16 MB of its record); those of the
// exporters beyond are counted in one row per version marked "exporters".
const (
	maxDomainsPerExporter = 4096
	maxExporterEntries    = 1 << 16
)

// Values of exporterStats.Other and ExporterInfo.Other.
const (
	otherDomains   = "domains"
	otherExporters = "exporters"
)

// exporterTable holds exporter statistics by exporter, port, domain and
// version, within the limits above: memory grows with the exporters'
// addresses, not with the ids they choose.
type exporterTable struct {
	m       map[domainKey]*exporterStats
	perAddr map[netip.Addr]int // rows of each address, but its Other one
}

func newExporterTable() *exporterTable {
	return &exporterTable{m: map[domainKey]*exporterStats{}, perAddr: map[netip.Addr]int{}}
}

// get returns the row of an exporter domain, making it (or taking the
// address's, or the source's, Other row) when there is none.
func (t *exporterTable) get(addr netip.Addr, port uint16, domain uint32, version uint16) *exporterStats {
	k := domainKey{addr: addr, port: port, domain: domain, version: version}
	if es := t.m[k]; es != nil {
		return es
	}
	if t.perAddr[addr] >= maxDomainsPerExporter {
		k = domainKey{addr: addr, version: version, other: otherDomains}
		if es := t.m[k]; es != nil {
			return es
		}
	}
	if len(t.m) >= maxExporterEntries {
		k = domainKey{addr: unspecifiedLike(addr), version: version, other: otherExporters}
		if es := t.m[k]; es != nil {
			return es
		}
	}
	es := &exporterStats{Address: k.addr.String(), Port: k.port, ObservationDomain: k.domain, Versions: []uint16{version}, Other: k.other}
	if version == 0 { // nfdump's files: no export packets, no version
		es.Versions = []uint16{}
	}
	if k.other == "" {
		t.perAddr[addr]++
	}
	t.m[k] = es
	return es
}

// unspecifiedLike is 0.0.0.0 for an IPv4 address, :: for others.
func unspecifiedLike(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

// list returns the rows in order (sortExporters).
func (t *exporterTable) list() []*exporterStats {
	exps := make([]*exporterStats, 0, len(t.m))
	for _, es := range t.m {
		exps = append(exps, es)
	}
	sortExporters(exps)
	return exps
}

// notes tells of the rows that count many domains or exporters together.
func (t *exporterTable) notes() []string {
	var notes []string
	for _, es := range t.list() {
		what := fmt.Sprintf("%d packets (%d flows)", es.Packets+es.Duplicates, es.Flows)
		if len(es.Versions) == 0 { // nfdump's files: flows only
			what = fmt.Sprintf("%d flows", es.Flows)
		}
		switch es.Other {
		case otherDomains:
			notes = append(notes, fmt.Sprintf("exporter %s sent from more than %d observation domains (their ids are the sender's choice): the others' %s are counted together in one row marked other domains",
				es.Address, maxDomainsPerExporter, what))
		case otherExporters:
			notes = append(notes, fmt.Sprintf("more than %d exporters and domains: the %s of those beyond are counted together in one row marked other exporters",
				maxExporterEntries, what))
		}
	}
	return notes
}

// VersionName names an export version as flowcase shows it: v5, v9,
// ipfix, sflow5.
func VersionName(v uint16) string {
	switch v {
	case 10:
		return "ipfix"
	case netflow.VersionSFlow5:
		return "sflow5"
	}
	return fmt.Sprintf("v%d", v)
}

// Waiting is data that waits in the store for a template.
type Waiting = waiting

type expKey struct {
	addr   string
	port   uint16
	domain uint32
	other  string
}

// Exporters aggregates the exporter statistics of every complete source,
// with the templates and sampling known now, and lists the data sets
// still waiting for their template.
func Exporters(st *index.Store) ([]ExporterInfo, []Waiting, error) {
	srcs, err := st.Sources()
	if err != nil {
		return nil, nil, err
	}
	by := map[expKey]*ExporterInfo{}
	skew := map[expKey]float64{}
	// Rows of an address beyond maxDomainsPerExporter, over the sources,
	// go to its Other row, as in a source.
	perAddr := map[string]int{}
	for _, s := range srcs {
		if s.Status != index.StatusComplete || len(s.Extra) == 0 {
			continue
		}
		var extra struct {
			Exporters []exporterStats `json:"exporters"`
		}
		if json.Unmarshal(s.Extra, &extra) != nil {
			continue
		}
		for _, e := range extra.Exporters {
			k := expKey{e.Address, e.Port, e.ObservationDomain, e.Other}
			if by[k] == nil && k.other == "" && perAddr[k.addr] >= maxDomainsPerExporter {
				k = expKey{addr: k.addr, other: otherDomains}
			}
			x := by[k]
			if x == nil {
				x = &ExporterInfo{Address: k.addr, Port: k.port, ObservationDomain: k.domain, SamplingInterval: 1, Other: k.other}
				by[k] = x
				if k.other == "" {
					perAddr[k.addr]++
				}
			}
			for _, v := range e.Versions {
				if !slices.Contains(x.Versions, v) {
					x.Versions = append(x.Versions, v)
				}
			}
			x.Packets += e.Packets
			x.Flows += e.Flows
			x.SequenceGaps += e.SequenceGaps
			x.Lost += e.LostPackets
			x.Duplicates += e.Duplicates
			x.SamplingInterval = max(x.SamplingInterval, e.HeaderSampling)
			skew[k] += e.ClockSkewSeconds * float64(e.Packets)
		}
	}
	cache, err := loadTemplates(st)
	if err != nil {
		return nil, nil, err
	}
	row := func(k netflow.DomainKey) *ExporterInfo {
		a := k.Exporter.Addr.String()
		if x := by[expKey{a, k.Exporter.Port, k.Domain, ""}]; x != nil {
			return x
		}
		return by[expKey{addr: a, other: otherDomains}]
	}
	for _, t := range cache.Templates() {
		if x := row(t.Key.DomainKey()); x != nil {
			x.Templates++
		}
	}
	for _, d := range cache.Domains() {
		if x := row(d.Key); x != nil {
			x.SamplingInterval = max(x.SamplingInterval, samplingOf(d))
		}
	}
	out := make([]ExporterInfo, 0, len(by))
	for k, x := range by {
		if x.Packets > 0 {
			x.ClockSkewSeconds = float64(int64(skew[k]/float64(x.Packets)*1000)) / 1000
		}
		slices.Sort(x.Versions)
		x.Protocols = make([]string, len(x.Versions))
		for i, v := range x.Versions {
			x.Protocols[i] = VersionName(v)
		}
		out = append(out, *x)
	}
	slices.SortFunc(out, func(a, b ExporterInfo) int {
		aa, _ := netip.ParseAddr(a.Address)
		ba, _ := netip.ParseAddr(b.Address)
		if c := aa.Compare(ba); c != 0 {
			return c
		}
		if a.Port != b.Port {
			return int(a.Port) - int(b.Port)
		}
		if a.ObservationDomain != b.ObservationDomain {
			return int(int64(a.ObservationDomain) - int64(b.ObservationDomain))
		}
		return strings.Compare(a.Other, b.Other)
	})
	waits, err := storedWaiting(st)
	return out, waits, err
}

// samplingOf is the domain's sampling interval: its default, else the
// first sampler's, else 1.
func samplingOf(d netflow.DomainInfo) uint32 {
	switch {
	case d.DefaultSampling > 1:
		return d.DefaultSampling
	case len(d.Samplers) > 0 && d.Samplers[0].Interval > 1:
		return d.Samplers[0].Interval
	}
	return 1
}

// storedWaiting counts the parked data sets of complete sources.
func storedWaiting(st *index.Store) ([]Waiting, error) {
	// Every set the store holds, counted by its template (a store written
	// before the bounds holds more than an ingest takes up).
	complete := map[uint32]bool{}
	by := map[netflow.TemplateKey]*waiting{}
	err := st.ScanAux(index.AuxKey(auxParked, nil), func(key, val []byte) bool {
		if len(key) != 10 {
			return true
		}
		src := binary.BigEndian.Uint32(key[2:])
		ok, seen := complete[src]
		if !seen {
			ok, _ = st.SourceComplete(src)
			complete[src] = ok
		}
		ps, set, err := unmarshalParked(val)
		if !ok || err != nil {
			return true
		}
		w := by[ps.Key]
		if w == nil {
			k := ps.Key
			w = &waiting{Exporter: k.Exporter.Addr.String(), Port: k.Exporter.Port, ObservationDomain: k.Domain, TemplateID: k.ID}
			by[k] = w
		}
		w.Sets++
		w.Bytes += len(set)
		return true
	})
	out := make([]waiting, 0, len(by))
	for _, w := range by {
		out = append(out, *w)
	}
	sortWaiting(out)
	return out, err
}

// Limits on the data sets waiting for templates that a source lists: its
// record lists the first maxWaitingListed (exporter, domain, template) and
// their totals; the ingest's notes, the first maxWaitingNotes.
const (
	maxWaitingListed = 1000
	maxWaitingNotes  = 10
)

// waitingTotal sums a list of waiting sets.
type waitingTotal struct {
	Templates int `json:"templates"` // (exporter, domain, template) waited for
	Exporters int `json:"exporters"` // addresses
	Domains   int `json:"domains"`   // (address, domain)
	Sets      int `json:"sets"`
	Bytes     int `json:"bytes"`
}

func totalWaiting(ws []waiting) waitingTotal {
	t := waitingTotal{Templates: len(ws)}
	// ws is ordered by exporter, then domain: count the changes.
	for i, w := range ws {
		t.Sets += w.Sets
		t.Bytes += w.Bytes
		if i == 0 || w.Exporter != ws[i-1].Exporter {
			t.Exporters++
		}
		if i == 0 || w.Exporter != ws[i-1].Exporter || w.ObservationDomain != ws[i-1].ObservationDomain {
			t.Domains++
		}
	}
	return t
}

// waitingNotes tells what waits for templates: a line each when they are
// few, else the totals and the first few.
func waitingNotes(ws []waiting, t waitingTotal) []string {
	line := func(w waiting) string {
		return fmt.Sprintf("%d data sets (%d bytes) from %s domain %d wait for template %d",
			w.Sets, w.Bytes, w.Exporter, w.ObservationDomain, w.TemplateID)
	}
	notes := make([]string, 0, min(len(ws), maxWaitingNotes)+2)
	if len(ws) > maxWaitingNotes {
		notes = append(notes, fmt.Sprintf("%d data sets (%d bytes) wait for %d templates of %d domains of %d exporters; the first %d:",
			t.Sets, t.Bytes, t.Templates, t.Domains, t.Exporters, maxWaitingNotes))
	}
	for i, w := range ws {
		if i == maxWaitingNotes {
			notes = append(notes, fmt.Sprintf("and %d more templates (flowcase info lists what waits in the store)", len(ws)-i))
			break
		}
		notes = append(notes, line(w))
	}
	return notes
}
