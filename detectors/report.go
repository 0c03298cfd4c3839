package detectors

import (
	"bytes"
	"time"

	"github.com/flowcase/flowcase/internal/jsonout"
)

// Report is the full report of `flowcase query report`. Its JSON keeps the
// seed's keys (timestamp, total_flows, baseline, port_scans,
// exfiltration_candidates, beaconing_patterns, summary) and adds what makes
// it reproducible. Apart from Timestamp, two runs over the same records and
// parameters give byte-identical JSON.
type Report struct {
	Timestamp  string          `json:"timestamp"`
	Version    string          `json:"version"`
	Store      ReportStore     `json:"store"`
	Range      ReportRange     `json:"range"`
	Filter     string          `json:"filter"`
	Parameters Parameters      `json:"parameters"`
	TotalFlows uint64          `json:"total_flows"`
	Baseline   BaselineSummary `json:"baseline"`
	// PortScans holds the vertical scans (indicator "Port scan detected")
	// then the sweeps ("Network sweep detected"), as the seed did.
	PortScans              []PortScanEntry `json:"port_scans"`
	ExfiltrationCandidates []ExfilFinding  `json:"exfiltration_candidates"`
	BeaconingPatterns      []BeaconFinding `json:"beaconing_patterns"`
	Summary                Summary         `json:"summary"`
	Warnings               []string        `json:"warnings"`
	Notes                  []string        `json:"notes"`
}

// ReportStore says which store was read.
type ReportStore struct {
	ID             string `json:"id"`
	ManifestDigest string `json:"manifest_digest"` // digest of the segment manifests read
}

// ReportRange is the resolved time range.
type ReportRange struct {
	FromNS   int64  `json:"from_ns"`
	From     string `json:"from"`
	ToNS     int64  `json:"to_ns"`
	To       string `json:"to"`
	Starting bool   `json:"starting"` // select by start time only, not by overlap
}

// Summary counts the alerts. scan_alerts, exfil_alerts and beacon_alerts
// are the seed's keys: scan_alerts counts vertical scans and sweeps,
// exfil_alerts exfiltration findings and volume anomalies (traceroutes,
// server responses and two-way exchanges are listed but are not alerts).
type Summary struct {
	ScanAlerts      int `json:"scan_alerts"`
	ExfilAlerts     int `json:"exfil_alerts"`
	BeaconAlerts    int `json:"beacon_alerts"`
	VerticalScans   int `json:"vertical_scans"`
	Sweeps          int `json:"sweeps"`
	ServerResponses int `json:"server_responses"`
	TwoWay          int `json:"two_way"`
	VolumeAnomalies int `json:"volume_anomalies"`
	Traceroutes     int `json:"traceroutes"`
	TotalAlerts     int `json:"total_alerts"`
}

// PortScanEntry is a vertical scan or a sweep; its JSON is the one it
// holds.
type PortScanEntry struct {
	Scan  *ScanFinding
	Sweep *SweepFinding
}

// MarshalJSON writes the finding held.
func (e PortScanEntry) MarshalJSON() ([]byte, error) {
	if e.Scan != nil {
		return jsonout.Marshal(e.Scan)
	}
	return jsonout.Marshal(e.Sweep)
}

// ReportMeta is what the caller knows and the detectors do not.
type ReportMeta struct {
	// Timestamp of the run; empty means now, in the seed's format
	// (ISO 8601 without zone, UTC, microseconds).
	Timestamp      string
	Version        string
	StoreID        string
	ManifestDigest string
	From, To       int64
	Starting       bool
	Filter         string
	// BeaconsNotEvaluated, when set, says why beaconing was not evaluated
	// (e.g. "records have no timestamps"); the report then lists none and
	// says so in notes.
	BeaconsNotEvaluated string
	Notes               []string
}

// ReportInput is the detector output a report is built from.
type ReportInput struct {
	Meta       ReportMeta
	Parameters Parameters
	Baseline   BaselineSummary
	Scans      []ScanFinding
	Sweeps     []SweepFinding
	Exfil      []ExfilFinding
	Beacons    []BeaconFinding
	Warnings   []string
}

// SeedTimestamp formats t as the seed did (datetime.utcnow().isoformat()).
func SeedTimestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

// BuildReport assembles the report. Lists are never null in its JSON.
func BuildReport(in ReportInput) *Report {
	m := in.Meta
	r := &Report{
		Timestamp: m.Timestamp, Version: m.Version,
		Store:      ReportStore{ID: m.StoreID, ManifestDigest: m.ManifestDigest},
		Range:      ReportRange{FromNS: m.From, From: FormatTime(m.From), ToNS: m.To, To: FormatTime(m.To), Starting: m.Starting},
		Filter:     m.Filter,
		Parameters: in.Parameters,
		TotalFlows: in.Baseline.TotalFlows,
		Baseline:   in.Baseline,
		PortScans:  []PortScanEntry{}, ExfiltrationCandidates: []ExfilFinding{}, BeaconingPatterns: []BeaconFinding{},
		Warnings: append([]string{}, in.Warnings...), Notes: append([]string{}, m.Notes...),
	}
	if r.Timestamp == "" {
		r.Timestamp = SeedTimestamp(time.Now())
	}
	for i := range in.Scans {
		r.PortScans = append(r.PortScans, PortScanEntry{Scan: &in.Scans[i]})
	}
	for i := range in.Sweeps {
		r.PortScans = append(r.PortScans, PortScanEntry{Sweep: &in.Sweeps[i]})
	}
	r.ExfiltrationCandidates = append(r.ExfiltrationCandidates, in.Exfil...)
	if m.BeaconsNotEvaluated == "" {
		r.BeaconingPatterns = append(r.BeaconingPatterns, in.Beacons...)
	} else {
		r.Notes = append(r.Notes, "beaconing not evaluated: "+m.BeaconsNotEvaluated)
	}
	r.Summary = summarize(r)
	return r
}

func summarize(r *Report) Summary {
	var s Summary
	for _, e := range r.PortScans {
		switch {
		case e.Scan != nil && e.Scan.Kind == KindTraceroute:
			s.Traceroutes++
		case e.Scan != nil:
			s.VerticalScans++
		default:
			s.Sweeps++
		}
	}
	for _, f := range r.ExfiltrationCandidates {
		switch f.Kind {
		case KindServerResponse:
			s.ServerResponses++
		case KindTwoWay:
			s.TwoWay++
		case KindVolumeAnomaly:
			s.VolumeAnomalies++
		}
	}
	s.ScanAlerts = s.VerticalScans + s.Sweeps
	s.ExfilAlerts = len(r.ExfiltrationCandidates) - s.ServerResponses - s.TwoWay
	s.BeaconAlerts = len(r.BeaconingPatterns)
	s.TotalAlerts = s.ScanAlerts + s.ExfilAlerts + s.BeaconAlerts
	return s
}

// MapSources fills every finding's Sources with name(id) for its SourceIDs
// (the caller maps store source ids to SHA-256).
func (r *Report) MapSources(name func(id uint32) string) {
	fill := func(ev *Evidence) {
		ev.Sources = make([]string, len(ev.SourceIDs))
		for i, id := range ev.SourceIDs {
			ev.Sources[i] = name(id)
		}
	}
	for _, e := range r.PortScans {
		if e.Scan != nil {
			fill(&e.Scan.Evidence)
		} else {
			fill(&e.Sweep.Evidence)
		}
	}
	for i := range r.ExfiltrationCandidates {
		fill(&r.ExfiltrationCandidates[i].Evidence)
	}
	for i := range r.BeaconingPatterns {
		fill(&r.BeaconingPatterns[i].Evidence)
	}
}

// Parameters are every detector parameter in force, as the report records
// them.
type Parameters struct {
	Connections ConnParams     `json:"connections"`
	Scan        ScanParams     `json:"scan"`
	Sweep       SweepParams    `json:"sweep"`
	Exfil       ExfilParams    `json:"exfil"`
	Beacon      BeaconParams   `json:"beacon"`
	Baseline    BaselineParams `json:"baseline"`
}

// ConnParams: see ConnConfig.
type ConnParams struct {
	Gap       string `json:"gap"`
	Idle      string `json:"idle"`
	ReplyWait string `json:"reply_wait"`
}

// ScanParams: see ScanConfig.
type ScanParams struct {
	Ports     int     `json:"ports"`
	Window    string  `json:"window"`
	MinFailed float64 `json:"min_failed"`
}

// SweepParams: see SweepConfig.
type SweepParams struct {
	Hosts     int     `json:"hosts"`
	Window    string  `json:"window"`
	MinFailed float64 `json:"min_failed"`
}

// ExfilParams: see ExfilConfig.
type ExfilParams struct {
	Internal        []string `json:"internal"`
	Bytes           uint64   `json:"bytes"`
	MinOutInRatio   float64  `json:"min_out_in_ratio"`
	History         string   `json:"history"`
	MinHistoryDays  int      `json:"min_history_days"`
	MADFactor       float64  `json:"mad_factor"`
	HistoryMinBytes uint64   `json:"history_min_bytes"`
}

// BeaconParams: see BeaconConfig.
type BeaconParams struct {
	MinConnections int       `json:"min_connections"`
	Threshold      float64   `json:"threshold"`
	MaxIntervals   int       `json:"max_intervals"`
	MinInterval    string    `json:"min_interval"`
	BeatGap        string    `json:"beat_gap"`
	MaxMedianBytes uint64    `json:"max_median_bytes"`
	Exclude        []Service `json:"exclude"`
}

// BaselineParams: see BaselineConfig.
type BaselineParams struct {
	TopPorts   int    `json:"top_ports"`
	TopTalkers int    `json:"top_talkers"`
	Every      string `json:"every"`
	// Zone is the time zone whose hours and midnights the timeline
	// follows, when not UTC (--tz).
	Zone string `json:"zone,omitempty"`
}

// ParametersOf renders a configuration (defaults filled in) for a report.
func ParametersOf(c SuiteConfig) Parameters {
	c.Conn, c.Scan, c.Sweep = c.Conn.withDefaults(), c.Scan.withDefaults(), c.Sweep.withDefaults()
	c.Exfil, c.Beacon, c.Baseline = c.Exfil.withDefaults(), c.Beacon.withDefaults(), c.Baseline.withDefaults()
	n := newNets(c.Exfil.Internal)
	return Parameters{
		Connections: ConnParams{c.Conn.Gap.String(), c.Conn.Idle.String(), c.Conn.ReplyWait.String()},
		Scan:        ScanParams{c.Scan.Ports, c.Scan.Window.String(), c.Scan.MinFailed},
		Sweep:       SweepParams{c.Sweep.Hosts, c.Sweep.Window.String(), max(c.Sweep.MinFailed, 0)},
		Exfil: ExfilParams{n.strings(), c.Exfil.Bytes, c.Exfil.MinOutInRatio, c.Exfil.History.String(), c.Exfil.MinHistoryDays,
			c.Exfil.MADFactor, c.Exfil.HistoryMinBytes},
		Beacon: BeaconParams{c.Beacon.MinConnections, max(c.Beacon.Threshold, 0), c.Beacon.MaxIntervals,
			c.Beacon.MinInterval.String(), c.Beacon.BeatGap.String(), c.Beacon.MaxMedianBytes, append([]Service{}, c.Beacon.Exclude...)},
		Baseline: BaselineParams{c.Baseline.TopPorts, c.Baseline.TopTalkers, c.Baseline.Every.String(), zoneName(c.Baseline.Location)},
	}
}

// zoneName names a zone other than UTC; "" for UTC.
func zoneName(loc *time.Location) string {
	if loc == nil || loc == time.UTC || loc.String() == "UTC" {
		return ""
	}
	return loc.String()
}

// SeedFloat is a number of the seed's report that Python wrote as a float
// (total_mb, mean_interval, jitter_ratio): it is written with a decimal
// point (240.0, not 240), so that a reader of the seed's reports gets the
// type it got.
type SeedFloat float64

// MarshalJSON writes f as encoding/json does, with ".0" when it has no
// fraction or exponent.
func (f SeedFloat) MarshalJSON() ([]byte, error) {
	b, err := jsonout.Marshal(float64(f))
	if err == nil && !bytes.ContainsAny(b, ".eE") {
		b = append(b, '.', '0')
	}
	return b, err
}
