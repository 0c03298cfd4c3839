package detectors

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
)

func exfilOf(cfg ExfilConfig, recs []flow.Record) *Exfil {
	e := NewExfil(cfg)
	for i := range recs {
		e.Add(&recs[i])
	}
	return e
}

// Inbound downloads and internal->internal transfers are never
// exfiltration, whatever the record's orientation; an internal server's
// answers to external clients are marked server-response.
func TestExfilDirections(t *testing.T) {
	in, in2, out := ip4(10, 1, 0, 5), ip4(10, 0, 0, 9), ip4(198, 51, 100, 9)
	tests := []struct {
		name string
		recs []flow.Record
		want string // kind, or "" for no finding
	}{
		{"download, unidirectional", sessions(gen.Session{Proto: 6, Client: in, Server: out, ClientPort: 50000, ServerPort: 443, Dur: sec, Up: 1e6, Down: 900e6}), ""},
		{"download, biflow", sessions(gen.Session{Proto: 6, Client: in, Server: out, ClientPort: 50000, ServerPort: 443, Dur: sec, Up: 1e6, Down: 900e6, Biflow: true}), ""},
		{"download, answer only", []flow.Record{{SrcAddr: out, DstAddr: in, SrcPort: 443, DstPort: 50000, Proto: 6, TCPFlags: flow.ACK | flow.PSH, Bytes: 900e6, Packets: 9e5}}, ""},
		{"internal to internal", sessions(gen.Session{Proto: 6, Client: in, Server: in2, ClientPort: 50000, ServerPort: 22, Dur: sec, Up: 900e6, Down: 1e6}), ""},
		{"upload", sessions(gen.Session{Proto: 6, Client: in, Server: out, ClientPort: 50000, ServerPort: 443, Dur: sec, Up: 300e6, Down: 1e6}), KindExfiltration},
		{"upload, biflow", sessions(gen.Session{Proto: 6, Client: in, Server: out, ClientPort: 50000, ServerPort: 443, Dur: sec, Up: 300e6, Down: 1e6, Biflow: true}), KindExfiltration},
		// A biflow record with the server first: the ports say the internal
		// client opened it, and its reverse bytes left the network.
		{"upload, biflow with the server first", []flow.Record{{SrcAddr: out, DstAddr: in, SrcPort: 443, DstPort: 50000, Proto: 6,
			TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: 1e6, Packets: 900, RevBytes: 300e6, RevPackets: 2e5}}, KindExfiltration},
		{"server answering an external client", sessions(gen.Session{Proto: 6, Client: out, Server: in, ClientPort: 50000, ServerPort: 443, Dur: sec, Up: 1e6, Down: 300e6}), KindServerResponse},
		{"video call", sessions(gen.Session{Proto: 17, Client: in, Server: out, ClientPort: 50000, ServerPort: 3478, Dur: 600 * sec, Up: 300e6, Down: 300e6, Split: 60 * sec}), KindTwoWay},
		{"below the threshold", sessions(gen.Session{Proto: 6, Client: in, Server: out, ClientPort: 50000, ServerPort: 443, Dur: sec, Up: 99e6, Down: 1e6}), ""},
	}
	for _, tt := range tests {
		got := exfilOf(ExfilConfig{}, tt.recs).Findings()
		switch {
		case tt.want == "" && len(got) != 0:
			t.Errorf("%s: got %s %v -> %v, want no finding", tt.name, got[0].Kind, got[0].Source, got[0].Destination)
		case tt.want != "" && (len(got) != 1 || got[0].Kind != tt.want):
			t.Errorf("%s: got %d findings %+v, want one %s", tt.name, len(got), got, tt.want)
		case tt.want != "" && got[0].Source != in:
			t.Errorf("%s: source %v, want the internal host %v", tt.name, got[0].Source, in)
		}
	}
}

func TestExfilFindingFields(t *testing.T) {
	in, out := ip4(10, 1, 0, 5), ip4(198, 51, 100, 9)
	got := exfilOf(ExfilConfig{}, sessions(gen.Session{Proto: 6, Client: in, Server: out, ClientPort: 50000, ServerPort: 443, Start: t0, Dur: sec, Up: 150e6, Down: 1e6})).Findings()
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1", len(got))
	}
	f := got[0]
	if f.TotalBytes != 150e6 || f.TotalMB != 150 || f.InBytes != 1e6 || f.OutInRatio != 150 || f.Opener != "source" ||
		f.OpenedBySource != 1 || f.Severity != "critical" || f.Indicator != IndicatorExfil {
		t.Errorf("got %+v", f)
	}
	if want := "ip 10.1.0.5 and ip 198.51.100.9'"; !strings.HasSuffix(f.Query, want) {
		t.Errorf("query %q does not end with %q", f.Query, want)
	}
	if f.Score != round(volumeScore(150e6, 100e6)) {
		t.Errorf("score %v, want %v", f.Score, round(volumeScore(150e6, 100e6)))
	}
}

// history writes daily uploads of host for the days before t0.
func history(host netip.Addr, days int, daily func(d int) uint64) []flow.Record {
	var recs []flow.Record
	for d := days; d >= 1; d-- {
		st := t0 - int64(d)*24*hr + 12*hr
		recs = append(recs, flow.Record{Start: st, End: st + sec, SrcAddr: host, DstAddr: ip4(198, 51, 100, 1), SrcPort: 50000,
			DstPort: 443, Proto: 6, Bytes: daily(d), Packets: 1})
	}
	return recs
}

func TestExfilHistoryRule(t *testing.T) {
	h, quiet := ip4(10, 1, 0, 5), ip4(10, 1, 0, 6)
	rng := rand.New(rand.NewPCG(5, 5))
	daily := func(int) uint64 { return uint64(20e6 + rng.IntN(4e6)) }
	// 60 MB on the first range day: below 100 MB per pair, above the
	// history (median about 22 MB, MAD about 1 MB).
	day0 := []flow.Record{
		{Start: t0 + hr, End: t0 + hr, SrcAddr: h, DstAddr: ip4(203, 0, 113, 1), SrcPort: 50001, DstPort: 443, Proto: 6, Bytes: 30e6, Packets: 1},
		{Start: t0 + 2*hr, End: t0 + 2*hr, SrcAddr: h, DstAddr: ip4(203, 0, 113, 2), SrcPort: 50002, DstPort: 443, Proto: 6, Bytes: 30e6, Packets: 1},
		{Start: t0 + 3*hr, End: t0 + 3*hr, SrcAddr: quiet, DstAddr: ip4(203, 0, 113, 2), SrcPort: 50002, DstPort: 443, Proto: 6, Bytes: 21e6, Packets: 1},
	}
	run := func(days int, from int64) *Exfil {
		e := NewExfil(ExfilConfig{From: from, To: t0 + 24*hr})
		for _, r := range append(history(h, days, daily), history(quiet, days, daily)...) {
			e.AddHistory(&r)
		}
		for i := range day0 {
			e.Add(&day0[i])
		}
		return e
	}
	got := run(14, t0).Findings()
	if len(got) != 1 || got[0].Kind != KindVolumeAnomaly || got[0].Source != h || got[0].TotalBytes != 60e6 {
		t.Fatalf("got %+v, want one volume anomaly of %v with 60 MB", got, h)
	}
	hc := got[0].History
	if hc.Status != "above" || hc.Days != 14 || hc.Median < 20e6 || hc.Median > 24e6 || hc.Threshold > 60e6 {
		t.Errorf("history %+v", hc)
	}
	if got[0].FirstSeenNS != t0+hr || got[0].LastSeenNS != t0+2*hr || got[0].Flows != 2 {
		t.Errorf("span %s..%s flows %d, want 01:00..02:00 and 2", got[0].FirstSeen, got[0].LastSeen, got[0].Flows)
	}
	e := run(5, t0)
	if got := e.Findings(); len(got) != 0 {
		t.Errorf("with 5 days of history: %d findings, want 0", len(got))
	}
	if w := strings.Join(e.Warnings(), " "); !strings.Contains(w, "insufficient history (5 of 14 days, need 7)") {
		t.Errorf("warnings %q", w)
	}
	if w := strings.Join(run(14, 0).Warnings(), " "); !strings.Contains(w, "not evaluated") {
		t.Errorf("without a range start: warnings %q", w)
	}
}

// TestExfilDaysSparse: a host keeps only its days with records, so a range
// of decades (a flow dated 1970 by an exporter whose clock was never set,
// beside this year's) costs an entry per day with records, not per day
// between; the largest day is still found and dated. Kept densely, 20,000
// hosts over 56 years took more than 24 GB and the report was killed.
func TestExfilDaysSparse(t *testing.T) {
	in, out := ip4(10, 1, 0, 5), ip4(198, 51, 100, 9)
	t1970 := int64(24 * hr)
	upload := func(start int64, port uint16, up uint64) flow.Record {
		return flow.Record{Start: start, End: start + sec, SrcAddr: in, DstAddr: out, SrcPort: port, DstPort: 443, Proto: flow.ProtoTCP,
			TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: up, Packets: 100, RevBytes: 1000, RevPackets: 10}
	}
	recs := []flow.Record{upload(t1970, 40000, 5e6), upload(t0, 40001, 7e6), upload(t0+hr, 40002, 8e6), upload(t0+2*24*hr, 40003, 3e6)}
	e := exfilOf(ExfilConfig{}, recs)
	e.doSync()
	h := &e.hslab[e.hostOf[e.tr.addrs.id(in)]-1]
	k0 := (t0 - t1970) / (24 * hr)
	if len(h.days) != 3 || h.days[0].k != 0 || h.days[1].k != k0 || h.days[1].out != 15e6 || h.days[2].k != k0+2 {
		t.Fatalf("days %+v; want 3 (day 0, %d, %d)", h.days, k0, k0+2)
	}
	hc, _ := e.check(h, nil)
	if hc.DayBytes != 15e6 || hc.DayStartNS != t1970+k0*24*hr {
		t.Errorf("largest day %d bytes at %s; want 15000000 at %s", hc.DayBytes, hc.DayStart, FormatTime(t1970+k0*24*hr))
	}
}

// TestExfilRollingHistory: in a range of 20 days without history before
// it, each day is judged against the days before it in the range: a spike
// on day 19 (14 days of history) is a volume anomaly, one on day 3 (three
// days) is not judged, and the warning is gone.
func TestExfilRollingHistory(t *testing.T) {
	h := ip4(10, 1, 0, 5)
	rng := rand.New(rand.NewPCG(7, 7))
	var recs []flow.Record
	for d := range int64(20) {
		out := uint64(20e6 + rng.IntN(4e6))
		if d == 3 || d == 19 {
			out = 80e6
		}
		st := t0 + d*24*hr + 12*hr
		recs = append(recs, flow.Record{Start: st, End: st + sec, SrcAddr: h, DstAddr: ip4(203, 0, 113, byte(1+d)), SrcPort: 50000 + uint16(d),
			DstPort: 443, Proto: 6, Bytes: out, Packets: 1})
	}
	e := exfilOf(ExfilConfig{From: t0, To: t0 + 20*24*hr}, recs)
	got := e.Findings()
	if len(got) != 1 || got[0].Kind != KindVolumeAnomaly || got[0].TotalBytes != 80e6 {
		t.Fatalf("got %+v, want one volume anomaly of 80 MB", got)
	}
	hc := got[0].History
	if hc.DayStartNS != t0+19*24*hr || hc.Days != 14 || hc.Status != "above" || hc.Median < 20e6 || hc.Median > 24e6 {
		t.Errorf("history %+v, want day 19 above 14 days of about 22 MB", hc)
	}
	if w := e.Warnings(); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
	// Day 3's spike alone: judged against three days, so not at all.
	if got := exfilOf(ExfilConfig{From: t0, To: t0 + 5*24*hr}, recs[:5]).Findings(); len(got) != 0 {
		t.Errorf("five days: %d findings, want none", len(got))
	}
}

// TestExfilVolumeAnomalyKinds: a day's outbound that went mostly to
// external clients of the host (a server's day) or was matched by as much
// coming back (a call) is not a volume anomaly, as a pair of such traffic
// is server-response or two-way; the same volume uploaded by the host is.
func TestExfilVolumeAnomalyKinds(t *testing.T) {
	h, ext := ip4(10, 1, 0, 5), ip4(203, 0, 113, 9)
	quiet := func() []flow.Record {
		var recs []flow.Record
		for d := range int64(14) {
			st := t0 + d*24*hr + 12*hr
			recs = append(recs, flow.Record{Start: st, End: st + sec, SrcAddr: h, DstAddr: ext, SrcPort: 50000 + uint16(d), DstPort: 443,
				Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: 1e6, Packets: 10, RevBytes: 5e6, RevPackets: 10})
		}
		return recs
	}
	st := t0 + 14*24*hr + 12*hr
	cdn := ip4(198, 51, 100, 80)
	upload := flow.Record{Start: st, End: st + sec, SrcAddr: h, DstAddr: ext, SrcPort: 51000, DstPort: 443, Proto: 6,
		TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: 80e6, Packets: 1e4, RevBytes: 1e6, RevPackets: 1e3}
	for _, c := range []struct {
		name   string
		spikes []flow.Record
		want   int
	}{
		{"upload", []flow.Record{upload}, 1},
		// A download from another peer the same day: not an answer to the
		// upload (it hid one spread over many peers).
		{"upload and a download from another peer", []flow.Record{upload, {Start: st + hr, End: st + hr + sec, SrcAddr: h, DstAddr: cdn,
			SrcPort: 52000, DstPort: 443, Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: 1e6, Packets: 1e3, RevBytes: 100e6, RevPackets: 1e4}}, 1},
		{"served to an external client", []flow.Record{{Start: st, End: st + sec, SrcAddr: ext, DstAddr: h, SrcPort: 51000, DstPort: 443, Proto: 6,
			TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: 1e6, Packets: 1e3, RevBytes: 80e6, RevPackets: 1e4}}, 0},
		{"a call", []flow.Record{{Start: st, End: st + sec, SrcAddr: h, DstAddr: ext, SrcPort: 51000, DstPort: 3478, Proto: 17,
			Bytes: 80e6, Packets: 1e4, RevBytes: 80e6, RevPackets: 1e4}}, 0},
		// The same call as a one-way exporter sends it: a record each way.
		{"a call in one-way records", []flow.Record{
			{Start: st, End: st + sec, SrcAddr: h, DstAddr: ext, SrcPort: 51000, DstPort: 3478, Proto: 17, Bytes: 80e6, Packets: 1e4},
			{Start: st, End: st + sec, SrcAddr: ext, DstAddr: h, SrcPort: 3478, DstPort: 51000, Proto: 17, Bytes: 80e6, Packets: 1e4}}, 0},
	} {
		got := exfilOf(ExfilConfig{From: t0, To: t0 + 15*24*hr}, append(quiet(), c.spikes...)).Findings()
		n := 0
		for _, f := range got {
			if f.Kind == KindVolumeAnomaly {
				n++
			}
		}
		if n != c.want {
			t.Errorf("%s: %d volume anomalies, want %d (%+v)", c.name, n, c.want, got)
		}
	}
	// The anomaly's evidence counts the records its query lists, the
	// host's flows with external peers that day: the upload and what a
	// one-way exporter recorded coming in (it counted the upload only).
	in := flow.Record{Start: st + hr, End: st + hr + sec, SrcAddr: cdn, DstAddr: h, SrcPort: 443, DstPort: 52000, Proto: 6,
		TCPFlags: flow.ACK | flow.PSH, Bytes: 2e6, Packets: 2e3}
	n := 0
	for _, f := range exfilOf(ExfilConfig{From: t0, To: t0 + 15*24*hr}, append(quiet(), upload, in)).Findings() {
		if f.Kind != KindVolumeAnomaly {
			continue
		}
		n++
		if f.Evidence.Flows != 2 || f.Evidence.RawBytes != 81e6+2e6 {
			t.Errorf("volume anomaly's evidence: %d flows, %d bytes; want 2 and %d", f.Evidence.Flows, f.Evidence.RawBytes, uint64(83e6))
		}
	}
	if n != 1 {
		t.Errorf("upload and a one-way record in: %d volume anomalies, want 1", n)
	}
}

// TestExfilAbsurdCounters: counters near 2^64 (a corrupt record, an
// exporter's wrapped counter, a 2^63 sampled 1:2) saturate instead of
// wrapping: two records of 2^63 bytes summed to 0 and the pair vanished,
// one sampled 1:2 too, and 2^64-1 bytes followed by 300 MB made a finding
// of 299,999,999 bytes. The finding shows the absurd figure, pointing the
// investigator at the records.
func TestExfilAbsurdCounters(t *testing.T) {
	in, out := ip4(10, 1, 0, 5), ip4(198, 51, 100, 9)
	rec := func(h int64, b uint64, samp uint32, port uint16) flow.Record {
		return flow.Record{Start: t0 + h*hr, End: t0 + h*hr + sec, SrcAddr: in, DstAddr: out, SrcPort: port, DstPort: 443, Proto: 6,
			TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: b, Packets: 10, RevBytes: 1000, RevPackets: 5, SamplingInterval: samp}
	}
	const maxU = math.MaxUint64
	for _, c := range []struct {
		name                 string
		recs                 []flow.Record
		rawOut, in, rawBytes uint64
	}{
		{"two of 2^63", []flow.Record{rec(1, 1<<63, 1, 50000), rec(2, 1<<63, 1, 50001)}, maxU, 2000, maxU},
		{"2^63 sampled 1:2", []flow.Record{rec(1, 1<<63, 2, 50000)}, 1 << 63, 2000, 1<<63 + 1000},
		{"2^64-1 and 300 MB", []flow.Record{rec(1, maxU, 1, 50000), rec(2, 300e6, 1, 50001)}, maxU, 2000, maxU},
	} {
		got := exfilOf(ExfilConfig{}, c.recs).Findings()
		if len(got) != 1 {
			t.Errorf("%s: %d findings, want 1", c.name, len(got))
			continue
		}
		f := got[0]
		if f.Kind != KindExfiltration || f.TotalBytes != maxU || f.RawOutBytes != c.rawOut || f.InBytes != c.in ||
			f.OutOnSourceOpened != maxU || f.OpenedBySource != uint64(len(c.recs)) || f.Score != 1 ||
			f.Flows != uint64(len(c.recs)) || f.RawBytes != c.rawBytes || f.ScaledBytes != maxU {
			t.Errorf("%s: got %+v", c.name, f)
		}
	}
	// The same through the history rule: the day's volume saturates too
	// and is an anomaly, not 0.
	recs := append(history(in, 14, func(int) uint64 { return 20e6 }), rec(1, 1<<62, 4, 50000))
	e := NewExfil(ExfilConfig{From: t0, To: t0 + 24*hr})
	for i := range recs[:14] {
		e.AddHistory(&recs[i])
	}
	e.Add(&recs[14])
	var kinds []string
	for _, f := range e.Findings() {
		kinds = append(kinds, f.Kind)
		if f.TotalBytes != maxU || f.History.DayBytes != maxU || f.History.Status != "above" {
			t.Errorf("2^62 sampled 1:4: %s of %d bytes, history %+v", f.Kind, f.TotalBytes, f.History)
		}
	}
	if want := []string{KindVolumeAnomaly, KindExfiltration}; !slices.Equal(kinds, want) {
		t.Errorf("2^62 sampled 1:4: kinds %v, want %v", kinds, want)
	}
}

// TestExfilStarts: the history rule's days come from the store's spans of
// record starts (ExfilConfig.Starts), not only from the records fed, so a
// filter that leaves one host's records judges its day as the report does:
// against 14 days of which it sent nothing.
func TestExfilStarts(t *testing.T) {
	h := ip4(10, 1, 0, 5)
	var spans [][2]int64
	for d := int64(2); d <= 14; d++ {
		spans = append(spans, [2]int64{t0 - d*24*hr + 9*hr, t0 - d*24*hr + 10*hr})
	}
	// One across the range's start (history day 1 and range day 0), and
	// one before the history (ignored).
	spans = append(spans, [2]int64{t0 - 30*mn, t0 + 30*mn}, [2]int64{t0 - 20*24*hr, t0 - 20*24*hr + hr})
	recs := []flow.Record{{Start: t0 + 12*hr, End: t0 + 12*hr + sec, SrcAddr: h, DstAddr: ip4(203, 0, 113, 1), SrcPort: 50000, DstPort: 443,
		Proto: 6, TCPFlags: flow.SYN | flow.ACK | flow.PSH | flow.FIN, Bytes: 60e6, Packets: 1e4, RevBytes: 1e5, RevPackets: 1e3}}
	e := exfilOf(ExfilConfig{From: t0, To: t0 + 24*hr, Starts: spans}, recs)
	got := e.Findings()
	if len(got) != 1 || got[0].Kind != KindVolumeAnomaly || got[0].TotalBytes != 60e6 {
		t.Fatalf("got %+v, want one volume anomaly of 60 MB", got)
	}
	if hc := *got[0].History; hc.Status != "above" || hc.Days != 14 || hc.Median != 0 || hc.MAD != 0 || hc.Threshold != 10e6 {
		t.Errorf("history %+v, want above 14 days of 0", hc)
	}
	if w := e.Warnings(); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
	// Without the spans: no history at all.
	if got := exfilOf(ExfilConfig{From: t0, To: t0 + 24*hr}, recs).Findings(); len(got) != 0 {
		t.Errorf("without spans: %+v, want none", got)
	}
}

// TestExfilTiedOpener: an upload exported as one-way records in whole
// seconds, request and answer starting at the same time, between ports that
// cannot tell the server (both above 32768) and with flags of the whole
// session (SYN, ACK, PSH, FIN each way): whichever record came first in the
// stream was taken as the opener's, so the order of two records with one
// timestamp turned a 3 GB upload into a server's answer (info, score 0).
// Which side opened is unknown there, and the outbound counts as the
// internal host's whatever the order.
func TestExfilTiedOpener(t *testing.T) {
	in, out := ip4(10, 1, 0, 5), ip4(198, 51, 100, 9)
	recs := sessions(gen.Session{Proto: 6, Client: in, Server: out, ClientPort: 49800, ServerPort: 50050, Start: t0 + 20*hr, Dur: hr,
		Up: 3e9, Down: 30e6, Split: 60 * sec})
	for i := range recs {
		recs[i].Start -= recs[i].Start % sec // the answer's millisecond lost
	}
	answerFirst := slices.Clone(recs)
	for i := 0; i+1 < len(answerFirst); i += 2 {
		answerFirst[i], answerFirst[i+1] = answerFirst[i+1], answerFirst[i]
	}
	for _, c := range []struct {
		name string
		recs []flow.Record
	}{{"request first", recs}, {"answer first", answerFirst}} {
		for _, suite := range []bool{false, true} {
			var got []ExfilFinding
			if suite {
				s := NewSuite(SuiteConfig{}.WithRange(t0, t0+24*hr))
				for i := range c.recs {
					s.Add(&c.recs[i])
				}
				got = s.Exfil.Findings()
			} else {
				got = exfilOf(ExfilConfig{From: t0, To: t0 + 24*hr}, c.recs).Findings()
			}
			if len(got) != 1 {
				t.Fatalf("%s: %d findings, want 1", c.name, len(got))
			}
			f := got[0]
			if f.Kind != KindExfiltration || f.Source != in || f.Destination != out || f.TotalBytes != 3e9 || f.InBytes != 30e6 ||
				f.OpenedBySource != 1 || f.OpenedByDestination != 0 || f.OutOnSourceOpened != 3e9 || f.Opener != "source" ||
				f.Score != 1 || f.Flows != 120 {
				t.Errorf("%s (suite %v): got %+v", c.name, suite, f)
			}
		}
	}
}
