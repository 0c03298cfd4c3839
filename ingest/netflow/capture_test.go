package netflow

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestHostile decodes every file of captures/hostile and checks that the
// damage is found and reported by reason, and that the records around it
// survive (TRUTH.md, "Hostile files").
func TestHostile(t *testing.T) {
	dir := capturesDir(t)
	cases := []struct {
		file       string
		flows      int
		readErr    bool    // the capture itself is damaged (pcap layer)
		errReasons []error // decode errors, in order
		warn       Warning // warnings seen on some packet
		snapped    int     // UDP payloads cut by the snap length
	}{
		{"h1_truncated_midpacket__pmacct101_nfv9.pcap", 23, true, nil, 0, 0},
		{"h2_v9_flowset_length_overrun__pmacct101.pcap", 50, false, []error{ErrSetLength}, 0, 0},
		{"h3_v9_flowset_length_short__pmacct101.pcap", 49, false, []error{ErrSetLength, ErrSetLength}, 0, 0},
		{"h4_pcap_huge_caplen__pmacct101_nfv9.pcap", 23, true, nil, 0, 0},
		{"h5_ipfix_set_length_zero__pmacct100.pcap", 8, false, []error{ErrSetLength}, 0, 0},
		{"h6_v5_count_lies__akvorado_nfv5.pcap", 29, false, nil, WarnCountMismatch, 0},
		{"h7_snaplen96__pmacct100_ipfix.pcap", 0, false,
			[]error{ErrTruncated, ErrTruncated, ErrTruncated, ErrTruncated, ErrTruncated, ErrTruncated}, WarnTruncated, 6},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			res := decodeCapture(t, filepath.Join(dir, "hostile", c.file))
			if len(res.recs) != c.flows {
				t.Errorf("got %d flows, want %d", len(res.recs), c.flows)
			}
			if (res.readErr != nil) != c.readErr {
				t.Errorf("got read error %v, want one: %v", res.readErr, c.readErr)
			}
			if len(res.errs) != len(c.errReasons) {
				t.Fatalf("got decode errors %v, want reasons %v", res.errs, c.errReasons)
			}
			for i, err := range res.errs {
				var de *DecodeError
				if !errors.Is(err, c.errReasons[i]) || !errors.As(err, &de) {
					t.Errorf("error %d: got %v, want %v in a *DecodeError", i, err, c.errReasons[i])
				}
				t.Logf("packet %d: %v", de.Packet, err)
			}
			var warn Warning
			for _, info := range res.infos {
				warn |= info.Warnings
			}
			if warn&c.warn != c.warn {
				t.Errorf("got warnings %v, want %v", warn, c.warn)
			}
			if res.truncated != c.snapped {
				t.Errorf("got %d snapped payloads, want %d", res.truncated, c.snapped)
			}
			if res.readErr != nil {
				t.Logf("capture: %v", res.readErr)
			}
		})
	}
}

// TestCaptureSampling checks per-sampler intervals from v9 options data
// (akvorado multiplesamplingrates, TRUTH.md finding 6). Options data says
// sampler 1 = 1 in 2000, sampler 2 = 1 in 4000; one record (18 packets,
// 1,348 bytes) names sampler 2, eleven name sampler 1. nfdump scales the
// eleven by 2000 and leaves the sampler-2 record unscaled (26,941,348 B,
// 40,018 packets); scaling it by 4000 as its sampler says gives 32,332,000 B
// and 112,000 packets.
func TestCaptureSampling(t *testing.T) {
	dir := capturesDir(t)
	res := decodeCapture(t, filepath.Join(dir, "public/netflow_derived/akvorado__multiplesamplingrates__all.pcap"))
	var raw, scaled, pkts uint64
	for _, g := range res.recs {
		raw += g.rec.Bytes
		scaled += g.rec.Bytes * g.rec.Sampling()
		pkts += g.rec.Packets * g.rec.Sampling()
	}
	if raw != 14818 || scaled != 32332000 || pkts != 112000 {
		t.Errorf("got raw %d scaled %d bytes, %d packets; want 14818, 32332000, 112000", raw, scaled, pkts)
	}
	if len(res.recs) == 0 || res.recs[0].rec.SamplingInterval != 4000 || res.recs[1].rec.SamplingInterval != 2000 {
		t.Errorf("got first two intervals %v, want 4000, 2000", res.recs[:min(2, len(res.recs))])
	}
	var fromOptions uint32
	for _, info := range res.infos {
		fromOptions += info.SamplingFrom[SampledOptions]
	}
	if fromOptions != 12 {
		t.Errorf("got %d records sampled from options, want 12", fromOptions)
	}
}

// TestCaptureBuffered checks that parked data sets decode once their
// template arrives (TRUTH.md finding 2): akvorado__data+templates has 10
// records a single pass decodes and 11 more behind a later template.
func TestCaptureBuffered(t *testing.T) {
	dir := capturesDir(t)
	for _, c := range []struct {
		file              string
		direct, recovered int
	}{
		{"public/netflow/akvorado__data+templates.pcap", 10, 11},
		{"public/netflow/akvorado__ipfix_v10_with_mpls_labels.pcap", 105, 36},
		{"public/netflow/ndpi__netflowv9.pcap", 0, 0}, // template never in capture
	} {
		res := decodeCapture(t, filepath.Join(dir, c.file))
		if len(res.recs) != c.direct || res.recovered != c.recovered {
			t.Errorf("%s: got %d + %d recovered, want %d + %d", c.file, len(res.recs), res.recovered, c.direct, c.recovered)
		}
	}
}
