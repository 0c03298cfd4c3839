package detectors

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/gen"
)

// TestExfilCases pins the findings of incidents and look-alikes as an
// investigator meets them, run through a Suite as the command line runs
// it: a day's range after a fortnight of history (none when hist is nil).
func TestExfilCases(t *testing.T) {
	h, cloud := ip4(10, 1, 0, 5), ip4(185, 199, 10, 20)
	quiet := func(host netip.Addr) []flow.Record { return history(host, 14, func(int) uint64 { return 20e6 }) }
	upload := func(client, server netip.Addr, cport, sport uint16, start, dur int64, up, down uint64, biflow bool) []flow.Record {
		return sessions(gen.Session{Proto: 6, Client: client, Server: server, ClientPort: cport, ServerPort: sport, Start: start, Dur: dur,
			Up: up, Down: down, Split: 60 * sec, Biflow: biflow})
	}
	type want struct {
		kind, severity, status string
		src, dst               netip.Addr
		total, in              uint64
		bySrc, byDst, flows    uint64
	}
	var cases []struct {
		name       string
		hist, recs []flow.Record
		internal   []netip.Prefix
		want       []want
	}
	add := func(name string, hist, recs []flow.Record, internal []netip.Prefix, w ...want) {
		cases = append(cases, struct {
			name       string
			hist, recs []flow.Record
			internal   []netip.Prefix
			want       []want
		}{name, hist, recs, internal, w})
	}
	// rclone to one cloud host: four parallel streams of 5 GB over two
	// hours, exported every 60 s: one connection each, 960 records.
	var rclone, rcloneBi []flow.Record
	for i := range 4 {
		st := t0 + 20*hr + int64(i)*sec
		rclone = append(rclone, upload(h, cloud, uint16(50000+i), 443, st, 2*hr, 5e9, 50e6, false)...)
		rcloneBi = append(rcloneBi, upload(h, cloud, uint16(50000+i), 443, st, 2*hr, 5e9, 50e6, true)...)
	}
	add("rclone, one-way records", nil, rclone, nil,
		want{KindExfiltration, "critical", "insufficient history", h, cloud, 19999999680, 199999680, 4, 0, 960})
	add("rclone, biflows", nil, rcloneBi, nil,
		want{KindExfiltration, "critical", "insufficient history", h, cloud, 19999999680, 199999680, 4, 0, 480})
	// The same host's day against its fortnight of 20 MB: also a volume
	// anomaly.
	add("rclone after a quiet fortnight", quiet(h), rclone, nil,
		want{KindVolumeAnomaly, "high", "above", h, netip.Addr{}, 19999999680, 0, 0, 0, 960},
		want{KindExfiltration, "critical", "above", h, cloud, 19999999680, 199999680, 4, 0, 960})
	// 10 GB spread over 200 addresses of one provider, 50 MB each: no pair
	// reaches 100 MB; the host's day is far above its history.
	var spread []flow.Record
	for i := range 200 {
		spread = append(spread, sessions(gen.Session{Proto: 6, Client: h, Server: ip4(52, 216, byte(i), byte(7+i%50)), ClientPort: uint16(50000 + i),
			ServerPort: 443, Start: t0 + 20*hr + int64(i)*10*sec, Dur: 8 * sec, Up: 50e6, Down: 100e3})...)
	}
	add("spread over a provider's range", quiet(h), spread, nil,
		want{KindVolumeAnomaly, "high", "above", h, netip.Addr{}, 10e9, 0, 0, 0, 400})
	add("spread, no history", nil, spread, nil)
	// Staging: 30 internal hosts' shares collected over SMB (never
	// exfiltration), then 6 GB out.
	stage := ip4(10, 1, 0, 50)
	var staging []flow.Record
	for i := range 30 {
		staging = append(staging, sessions(gen.Session{Proto: 6, Client: stage, Server: ip4(10, 1, 2, byte(i+1)), ClientPort: uint16(50000 + i),
			ServerPort: 445, Start: t0 + 2*hr + int64(i)*mn, Dur: 50 * sec, Up: 1e5, Down: 200e6})...)
	}
	staging = append(staging, upload(stage, cloud, 51000, 443, t0+4*hr, hr, 6e9, 6e6, false)...)
	add("staging, then upload", nil, staging, nil,
		want{KindExfiltration, "critical", "insufficient history", stage, cloud, 6e9, 6e6, 1, 0, 120})
	// An IPv6 upload from a global address: invisible until --internal
	// names the site's prefix (a warning says so).
	g6, ext6 := netip.MustParseAddr("2001:db8:1::5"), netip.MustParseAddr("2a00:1450::1")
	v6 := upload(g6, ext6, 50000, 443, t0+20*hr, hr, 3e9, 30e6, false)
	add("IPv6, default networks", nil, v6, nil)
	add("IPv6, --internal", nil, v6, append(DefaultInternal(), netip.MustParsePrefix("2001:db8:1::/48")),
		want{KindExfiltration, "critical", "insufficient history", g6, ext6, 3e9, 30e6, 1, 0, 120})
	// Look-alikes. Software updates: downloads.
	add("updates", nil, upload(h, cloud, 50000, 443, t0+20*hr, hr, 3e6, 3e9, false), nil)
	add("video call", nil, sessions(gen.Session{Proto: 17, Client: h, Server: cloud, ClientPort: 50000, ServerPort: 3478, Start: t0 + 20*hr,
		Dur: hr, Up: 1e9, Down: 1.2e9, Split: 60 * sec}), nil,
		want{KindTwoWay, "info", "insufficient history", h, cloud, 999999960, 1200000000, 1, 0, 120})
	// A web server in a DMZ serving 150 MB to each of three clients: the
	// answers are listed, not alerts, and the day is no anomaly.
	web := ip4(10, 2, 0, 10)
	var dmz []flow.Record
	var served []want
	for i := range 3 {
		client := ip4(81, 2, byte(i), 9)
		dmz = append(dmz, upload(client, web, uint16(50000+i), 443, t0+10*hr+int64(i)*mn, 10*mn, 1e6, 150e6, false)...)
		served = append(served, want{KindServerResponse, "info", "above", web, client, 150e6, 1e6, 0, 1, 20})
	}
	add("DMZ web server", quiet(web), dmz, nil, served...)
	// A nightly backup of 5 GB to the same cloud host: a pair above
	// --bytes, so listed as exfiltration, but its day is within the
	// host's history and no volume anomaly.
	bk, s3 := ip4(10, 1, 0, 20), ip4(52, 95, 1, 1)
	var bkHist, bkDay []flow.Record
	for d := int64(-14); d <= 0; d++ {
		r := upload(bk, s3, uint16(50020+d), 443, t0+d*24*hr+hr, hr, 5e9+uint64(d+20)*10e6, 20e6, false)
		if d < 0 {
			bkHist = append(bkHist, r...)
		} else {
			bkDay = r
		}
	}
	add("nightly backup", bkHist, bkDay, nil,
		want{KindExfiltration, "critical", "within", bk, s3, 5199999960, 19999980, 1, 0, 120})
	// Sampled 1:100: 3 MB exported, 300 MB estimated.
	add("sampled 1:100", nil, sessions(gen.Session{Proto: 6, Client: h, Server: cloud, ClientPort: 50000, ServerPort: 443, Start: t0 + 20*hr,
		Dur: hr, Up: 3e6, Down: 30e3, Split: 60 * sec, Sampling: 100}), nil,
		want{KindExfiltration, "critical", "insufficient history", h, cloud, 3e8, 3e6, 1, 0, 120})

	for _, c := range cases {
		cfg := SuiteConfig{}.WithRange(t0, t0+24*hr)
		if c.internal != nil {
			cfg = cfg.WithInternal(c.internal)
		}
		s := NewSuite(cfg)
		hist, recs := slices.Clone(c.hist), slices.Clone(c.recs)
		sortByStart(hist)
		sortByStart(recs)
		for i := range hist {
			s.AddHistory(&hist[i])
		}
		for i := range recs {
			s.Add(&recs[i])
		}
		var got []want
		for _, f := range s.Exfil.Findings() {
			got = append(got, want{f.Kind, f.Severity, f.History.Status, f.Source, f.Destination, f.TotalBytes, f.InBytes,
				f.OpenedBySource, f.OpenedByDestination, f.Flows})
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}
