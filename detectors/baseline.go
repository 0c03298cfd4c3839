package detectors

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// BaselineConfig configures the baseline. The zero value means the
// defaults.
type BaselineConfig struct {
	TopPorts   int           // destination ports listed (default 20, as the seed)
	TopTalkers int           // source addresses listed by bytes (default 10)
	Every      time.Duration // timeline bucket width (default 1h)
	From, To   int64         // range of the timeline (optional, unix ns)
	// Location is the zone whose hours and midnights the timeline's
	// buckets follow (--tz; nil is UTC): see TimelineConfig.
	Location *time.Location
}

// Baseline defaults.
const (
	DefaultTopPorts   = 20
	DefaultTopTalkers = 10
)

func (c BaselineConfig) withDefaults() BaselineConfig {
	if c.TopPorts <= 0 {
		c.TopPorts = DefaultTopPorts
	}
	if c.TopTalkers <= 0 {
		c.TopTalkers = DefaultTopTalkers
	}
	if c.Every <= 0 {
		c.Every = DefaultEvery
	}
	return c
}

// BaselineSummary is what was normal. total_flows, total_bytes,
// protocol_distribution and top_ports are the seed's keys:
// protocol_distribution maps a protocol number to raw bytes in both
// directions (the seed counted bytes_in only), top_ports a destination
// port to its flows.
type BaselineSummary struct {
	TotalFlows           uint64            `json:"total_flows"`
	TotalBytes           uint64            `json:"total_bytes"` // raw bytes_in + bytes_out
	ProtocolDistribution map[string]uint64 `json:"protocol_distribution"`
	TopPorts             TopPorts          `json:"top_ports"`
	BytesIn              uint64            `json:"bytes_in"`  // raw, forward (src->dst)
	BytesOut             uint64            `json:"bytes_out"` // raw, reverse (dst->src)
	Packets              uint64            `json:"packets"`   // raw, forward
	PacketsOut           uint64            `json:"packets_out"`
	ScaledBytes          uint64            `json:"scaled_bytes"` // both directions, times sampling
	ScaledPackets        uint64            `json:"scaled_packets"`
	FirstSeenNS          int64             `json:"first_seen_ns"`
	FirstSeen            string            `json:"first_seen"`
	LastSeenNS           int64             `json:"last_seen_ns"` // latest start
	LastSeen             string            `json:"last_seen"`
	ProtocolMix          []ProtoShare      `json:"protocol_mix"`
	TopDstPorts          []PortCount       `json:"top_dst_ports"`
	TopTalkers           []TopEntry        `json:"top_talkers"`
	Timeline             []TimelineBucket  `json:"timeline"`
	// TimelineNote says that Timeline lists only the intervals with flows,
	// and why (Timeline.SparseNote).
	TimelineNote string `json:"timeline_note,omitempty"`
}

// ProtoShare is one protocol of the mix.
type ProtoShare struct {
	Proto     uint8   `json:"proto"`
	Name      string  `json:"name"`
	FlowShare float64 `json:"flow_share"`
	ByteShare float64 `json:"byte_share"` // of scaled bytes
	BytesIn   uint64  `json:"bytes_in"`   // raw
	BytesOut  uint64  `json:"bytes_out"`  // raw
	Counts
}

// PortCount is one destination port with its flows and bytes.
type PortCount struct {
	Port uint16 `json:"port"`
	Counts
}

type protoCount struct {
	c                 Counts
	bytesIn, bytesOut uint64
}

// Baseline summarises traffic: totals, protocol mix, top destination
// ports, top talkers and a timeline. Its memory is fixed (per port and
// protocol counters) plus one counter per source address and per
// non-empty interval.
type Baseline struct {
	cfg         BaselineConfig
	total       Counts
	in, out     uint64
	pin, pout   uint64
	first, last int64
	protos      [256]protoCount
	ports       []Counts // by destination port
	addrs       *addrTab // own, or the Suite's
	talkers     []Counts // by source address id
	timeline    *Timeline
	sync        func() // brings every record in (a Suite's batch); nil standalone
	touched     uint64 // keeps prefetch's loads alive
}

// NewBaseline returns a baseline.
func NewBaseline(cfg BaselineConfig) *Baseline {
	cfg = cfg.withDefaults()
	return &Baseline{
		cfg: cfg, ports: make([]Counts, 1<<16), addrs: newAddrTab(),
		timeline: NewTimeline(TimelineConfig{Every: cfg.Every, From: cfg.From, To: cfg.To, Location: cfg.Location}),
	}
}

// Add counts one record.
func (b *Baseline) Add(r *flow.Record) { b.add(r, b.addrs.id(r.SrcAddr)) }

// add counts one record whose source address has id src in b.addrs.
func (b *Baseline) add(r *flow.Record, src uint32) {
	if b.total.Flows == 0 {
		b.first, b.last = r.Start, r.Start
	}
	b.first = min(b.first, r.Start)
	b.last = max(b.last, r.Start)
	b.total.add(r)
	b.in += r.Bytes
	b.out += r.RevBytes
	b.pin += r.Packets
	b.pout += r.RevPackets
	p := &b.protos[r.Proto]
	p.c.add(r)
	p.bytesIn += r.Bytes
	p.bytesOut += r.RevBytes
	b.ports[r.DstPort].add(r)
	if int(src) >= len(b.talkers) {
		b.talkers = append(b.talkers, make([]Counts, int(src)+1-len(b.talkers))...)
	}
	b.talkers[src].add(r)
	b.timeline.Add(r)
}

// prefetch loads the talker counters of a batch of records (see
// Suite.flushRecords).
func (b *Baseline) prefetch(ids []recIDs) {
	var sum uint64
	t := b.talkers
	for i := range ids {
		if int(ids[i].src) < len(t) {
			sum += t[ids[i].src].Flows
		}
	}
	b.touched += sum
}

// Summary returns the baseline.
func (b *Baseline) Summary() BaselineSummary {
	if b.sync != nil {
		b.sync()
	}
	s := BaselineSummary{
		TotalFlows: b.total.Flows, TotalBytes: b.total.RawBytes,
		BytesIn: b.in, BytesOut: b.out, Packets: b.pin, PacketsOut: b.pout,
		ScaledBytes: b.total.Bytes, ScaledPackets: b.total.Packets,
		FirstSeenNS: b.first, FirstSeen: FormatTime(b.first), LastSeenNS: b.last, LastSeen: FormatTime(b.last),
		ProtocolDistribution: map[string]uint64{},
		ProtocolMix:          []ProtoShare{}, TopDstPorts: []PortCount{},
	}
	for n := range b.protos {
		p := &b.protos[n]
		if p.c.Flows == 0 {
			continue
		}
		s.ProtocolDistribution[strconv.Itoa(n)] = p.c.RawBytes
		s.ProtocolMix = append(s.ProtocolMix, ProtoShare{
			Proto: uint8(n), Name: flow.ProtoName(uint8(n)),
			FlowShare: round(share(p.c.Flows, b.total.Flows)), ByteShare: round(share(p.c.Bytes, b.total.Bytes)),
			BytesIn: p.bytesIn, BytesOut: p.bytesOut, Counts: p.c,
		})
	}
	slices.SortFunc(s.ProtocolMix, func(x, y ProtoShare) int {
		return cmp.Or(cmp.Compare(y.Flows, x.Flows), cmp.Compare(x.Proto, y.Proto))
	})
	s.TopDstPorts = b.topPorts()
	s.TopPorts = TopPorts(s.TopDstPorts)
	s.TopTalkers = b.topTalkers()
	s.Timeline = b.timeline.Buckets()
	s.TimelineNote = b.timeline.SparseNote()
	return s
}

// TopPorts is the seed's top_ports: a JSON object of destination port to
// flows, its members in order of flows (most first), as the seed writes
// it; a map would be written in order of the ports as text.
type TopPorts []PortCount

// MarshalJSON writes the object in order.
func (t TopPorts) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, p := range t {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = strconv.AppendUint(b, uint64(p.Port), 10)
		b = append(b, '"', ':')
		b = strconv.AppendUint(b, p.Flows, 10)
	}
	return append(b, '}'), nil
}

// topPorts returns the TopPorts destination ports with the most flows,
// ties by port.
func (b *Baseline) topPorts() []PortCount {
	var all []PortCount
	for p, c := range b.ports {
		if c.Flows > 0 {
			all = append(all, PortCount{uint16(p), c})
		}
	}
	slices.SortFunc(all, func(x, y PortCount) int {
		return cmp.Or(cmp.Compare(y.Flows, x.Flows), cmp.Compare(x.Port, y.Port))
	})
	out := all[:min(len(all), b.cfg.TopPorts)]
	if out == nil {
		out = []PortCount{}
	}
	return out
}

// topTalkers returns the TopTalkers source addresses with the most bytes
// (scaled), ties by address.
func (b *Baseline) topTalkers() []TopEntry {
	var all []TopEntry
	for id, c := range b.talkers {
		if c.Flows > 0 {
			a := b.addrs.addr(uint32(id))
			all = append(all, TopEntry{Key: a.String(), Addr: a, Counts: c})
		}
	}
	slices.SortFunc(all, func(x, y TopEntry) int {
		return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), x.Addr.Compare(y.Addr))
	})
	out := all[:min(len(all), b.cfg.TopTalkers)]
	if out == nil {
		out = []TopEntry{}
	}
	return out
}
