package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// Kinds of planted events: what a detector should report.
const (
	KindScan   = "scan"         // vertical port scan: one source, one target, many ports
	KindSweep  = "sweep"        // one source, many targets, the same port(s)
	KindExfil  = "exfiltration" // bytes from an internal host to an external one
	KindBeacon = "beacon"       // connections at a regular interval, with jitter
)

// Kinds of decoys: traffic that looks like an event to a careless
// detector, and that none should report as one.
const (
	DecoyBusyServer = "busy-server" // an internal server answering many clients, some answers without their requests
	DecoyWebProxy   = "web-proxy"   // an internal proxy reaching many sites on 443
	DecoyDNS        = "dns"         // clients querying an internal resolver
	DecoyNTP        = "ntp"         // NTP polls at a fixed interval
	DecoyBackup     = "backup"      // a nightly internal->internal transfer
	DecoyDownload   = "download"    // a large inbound download, opened by the internal client
	DecoyWebServer  = "web-server"  // an internal web server answering an external client (a server response)
	DecoyVideoCall  = "video-call"  // as much in as out, cut every 60 s by an active timeout (two-way)
	DecoySSH        = "ssh-session" // one long session cut every 60 s by an active timeout
	DecoyBrowsing   = "browsing"    // a person browsing at random intervals
	DecoyPoller     = "poller"      // one client polling one server at random intervals, constant sizes
	DecoyServices   = "services"    // a client reaching 21 services of one server, hours apart
)

// Truth is the ground truth of a generated dataset: its configuration,
// the number of records written and every planted event and decoy.
type Truth struct {
	Config Config
	Flows  int // records written, background and scenario
	Events []Event
}

// Event is one planted event or decoy. Times are the starts of the first
// and last connection (an attempt, a beacon, an upload), in unix ns, at
// millisecond precision like every record. Connections counts the
// connections the source opened (a session cut by an active timeout is
// one), Flows the records.
type Event struct {
	ID    string // S1, W1, E1, B1 for planted events, D1... for decoys
	Kind  string // one of the Kind or Decoy constants
	Decoy bool
	What  string // a short description
	// Src opened the connections; Dst is the target. Either is the zero
	// Addr when many hosts take that part (Hosts counts them).
	Src, Dst netip.Addr
	Hosts    int
	Proto    uint8
	Ports    []uint16 // destination (service) ports, sorted; ICMP echo: 0
	First    int64
	Last     int64

	Connections int
	Failed      int    // connections unanswered, reset or refused by ICMP
	Flows       int    // records
	OutBytes    uint64 // client->server bytes, scaled by sampling
	InBytes     uint64 // server->client bytes, scaled by sampling
	Sampling    uint32 // 1:N packet sampling of the records (0: none)

	Period time.Duration // beacons: the configured sleep
	Jitter string        // beacons: how the sleep varies
}

// Planted returns the planted events (not the decoys), optionally of the
// given kinds only.
func (t *Truth) Planted(kinds ...string) []Event { return t.filter(false, kinds) }

// Decoys returns the decoys, optionally of the given kinds only.
func (t *Truth) Decoys(kinds ...string) []Event { return t.filter(true, kinds) }

func (t *Truth) filter(decoy bool, kinds []string) []Event {
	var out []Event
	for _, e := range t.Events {
		if e.Decoy != decoy {
			continue
		}
		ok := len(kinds) == 0
		for _, k := range kinds {
			ok = ok || e.Kind == k
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// Event returns the event or decoy with the given id.
func (t *Truth) Event(id string) (Event, bool) {
	for _, e := range t.Events {
		if e.ID == id {
			return e, true
		}
	}
	return Event{}, false
}

type truthJSON struct {
	Generator string      `json:"generator"`
	Config    configJSON  `json:"config"`
	Flows     int         `json:"flows"`
	Events    []eventJSON `json:"events"`
}

type configJSON struct {
	Flows     int     `json:"flows"`
	Start     string  `json:"start"`
	Span      string  `json:"span"`
	Seed      uint64  `json:"seed"`
	IPv6Share float64 `json:"ipv6_share"`
	Planted   bool    `json:"planted"`
}

type eventJSON struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Decoy       bool       `json:"decoy"`
	What        string     `json:"what"`
	Src         netip.Addr `json:"src,omitzero"`
	Dst         netip.Addr `json:"dst,omitzero"`
	Hosts       int        `json:"hosts,omitempty"`
	Proto       string     `json:"proto"`
	Ports       []uint16   `json:"ports"`
	First       string     `json:"first"`
	Last        string     `json:"last"`
	Connections int        `json:"connections"`
	Failed      int        `json:"failed"`
	Flows       int        `json:"flows"`
	OutBytes    uint64     `json:"out_bytes"`
	InBytes     uint64     `json:"in_bytes"`
	Sampling    uint32     `json:"sampling,omitempty"`
	Period      string     `json:"period,omitempty"`
	Jitter      string     `json:"jitter,omitempty"`
}

func fmtTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// WriteJSON writes the truth as a JSON object: the generator, its
// configuration, the number of records and "events", one event or decoy a
// line (times in RFC 3339, UTC).
func (t *Truth) WriteJSON(w io.Writer) error {
	c := t.Config
	head, err := json.MarshalIndent(truthJSON{Generator: "flowcase internal/gen", Flows: t.Flows,
		Config: configJSON{Flows: c.Flows, Start: fmtTime(c.Start.UnixNano()), Span: c.Span.String(), Seed: c.Seed,
			IPv6Share: c.IPv6Share, Planted: c.Planted}}, "", "  ")
	if err != nil {
		return err
	}
	// The head ends with `"events": null` and the closing brace.
	b := bytes.TrimSuffix(head, []byte("null\n}"))
	b = append(b, '[')
	for i, e := range t.Events {
		j := eventJSON{ID: e.ID, Kind: e.Kind, Decoy: e.Decoy, What: e.What, Src: e.Src, Dst: e.Dst, Hosts: e.Hosts,
			Proto: flow.ProtoName(e.Proto), Ports: e.Ports, First: fmtTime(e.First), Last: fmtTime(e.Last),
			Connections: e.Connections, Failed: e.Failed, Flows: e.Flows, OutBytes: e.OutBytes, InBytes: e.InBytes,
			Sampling: e.Sampling, Jitter: e.Jitter}
		if j.Ports == nil {
			j.Ports = []uint16{}
		}
		if e.Period != 0 {
			j.Period = e.Period.String()
		}
		line, err := json.Marshal(j)
		if err != nil {
			return err
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = append(b, line...)
	}
	b = append(b, "\n  ]\n}\n"...)
	_, err = w.Write(b)
	return err
}

// ReadTruth reads what WriteJSON wrote.
func ReadTruth(r io.Reader) (*Truth, error) {
	var in truthJSON
	if err := json.NewDecoder(r).Decode(&in); err != nil {
		return nil, fmt.Errorf("truth: %w", err)
	}
	parse := func(s string) (int64, error) {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, fmt.Errorf("truth: %w", err)
		}
		return t.UnixNano(), nil
	}
	start, err := parse(in.Config.Start)
	if err != nil {
		return nil, err
	}
	span, err := time.ParseDuration(in.Config.Span)
	if err != nil {
		return nil, fmt.Errorf("truth: span: %w", err)
	}
	t := &Truth{Flows: in.Flows, Config: Config{Flows: in.Config.Flows, Start: time.Unix(0, start).UTC(), Span: span,
		Seed: in.Config.Seed, IPv6Share: in.Config.IPv6Share, Planted: in.Config.Planted}}
	for _, j := range in.Events {
		e := Event{ID: j.ID, Kind: j.Kind, Decoy: j.Decoy, What: j.What, Src: j.Src, Dst: j.Dst, Hosts: j.Hosts,
			Ports: j.Ports, Connections: j.Connections, Failed: j.Failed, Flows: j.Flows, OutBytes: j.OutBytes,
			InBytes: j.InBytes, Sampling: j.Sampling, Jitter: j.Jitter}
		if len(e.Ports) == 0 {
			e.Ports = nil
		}
		var ok bool
		if e.Proto, ok = flow.ParseProto(j.Proto); !ok {
			return nil, fmt.Errorf("truth: %s: protocol %q", j.ID, j.Proto)
		}
		if e.First, err = parse(j.First); err != nil {
			return nil, err
		}
		if e.Last, err = parse(j.Last); err != nil {
			return nil, err
		}
		if j.Period != "" {
			if e.Period, err = time.ParseDuration(j.Period); err != nil {
				return nil, fmt.Errorf("truth: %s: period: %w", j.ID, err)
			}
		}
		t.Events = append(t.Events, e)
	}
	return t, nil
}
