package ingest

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"

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
			k := expKey{e.Address, e.Port, e.ObservationDomain}
			x := by[k]
			if x == nil {
				x = &ExporterInfo{Address: e.Address, Port: e.Port, ObservationDomain: e.ObservationDomain, SamplingInterval: 1}
				by[k] = x
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
	for _, t := range cache.Templates() {
		if x := by[expKey{t.Key.Exporter.Addr.String(), t.Key.Exporter.Port, t.Key.Domain}]; x != nil {
			x.Templates++
		}
	}
	for _, d := range cache.Domains() {
		if x := by[expKey{d.Key.Exporter.Addr.String(), d.Key.Exporter.Port, d.Key.Domain}]; x != nil {
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
		return int(int64(a.ObservationDomain) - int64(b.ObservationDomain))
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
	d := &captureDecoder{st: st}
	if err := d.loadParked(); err != nil {
		return nil, err
	}
	return summariseParked(d.parked, func(*parked) bool { return true }), nil
}
