package ingest

import (
	"crypto/sha256"
	"fmt"
	"io"
	"time"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/meter"
	"github.com/flowcase/flowcase/ingest/pcap"
	"github.com/flowcase/flowcase/internal/flow"
)

// meterDecoder makes flow records from the packets of a traffic capture
// (ingest --meter): capture reader, then the meter, whose finished records
// it hands out one at a time.
type meterDecoder struct {
	rd      *pcap.Reader
	m       *meter.Meter
	queue   []flow.Record
	next    int
	done    bool
	future  int64
	early   earlyTimes
	rejects map[string]int
	err     error
}

func newMeterDecoder(r io.Reader, format pcap.Format, name string, opt Options) (*meterDecoder, error) {
	rd, err := pcap.NewReader(r, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := &meterDecoder{rd: rd, rejects: map[string]int{}, future: nowOf(opt).Add(24 * time.Hour).UnixNano()}
	d.m = meter.New(opt.MeterConfig, d.emit)
	return d, nil
}

func (d *meterDecoder) emit(r *flow.Record) {
	if reason := implausibleTime(r, d.future); reason != "" {
		d.rejects[reason]++
		return
	}
	if r.Start < flow.MinPlausible {
		d.early.add(r)
	}
	d.queue = append(d.queue, *r)
}

// Next returns the next finished flow: packets are metered until one ends
// (by a timeout, most often), and at the end of the capture every flow
// still open ends.
func (d *meterDecoder) Next(r *flow.Record) bool {
	for d.next == len(d.queue) {
		d.queue, d.next = d.queue[:0], 0
		if d.done {
			return false
		}
		h, ok := d.rd.NextHeaders()
		if !ok {
			d.done = true
			d.m.Flush()
			d.err = d.rd.Err()
			for reason, n := range d.rd.Stats().Skipped {
				d.rejects["capture: "+reason] += int(n)
			}
			continue
		}
		d.m.Add(h)
	}
	*r = d.queue[d.next]
	d.next++
	return true
}

func (d *meterDecoder) Err() error              { return d.err }
func (d *meterDecoder) Rejects() map[string]int { return d.rejects }
func (d *meterDecoder) Assumed() int            { return 0 }

// finish keeps the meter's and the reader's counts with the source and
// tells the user what was metered.
func (d *meterDecoder) finish(_ *index.SourceResult, extra map[string]any, fr *FileResult) error {
	ms, cs := d.m.Stats(), d.rd.Stats()
	cfg := d.m.Config()
	extra["capture"] = cs
	extra["meter"] = map[string]any{
		"idle_timeout_seconds": cfg.Idle.Seconds(), "active_timeout_seconds": cfg.Active.Seconds(),
		"max_flows": cfg.MaxFlows, "packets": ms.Packets, "bytes": ms.Bytes, "flows": ms.Flows,
		"ended_idle": ms.Idle, "ended_active": ms.Active, "ended_new_connection": ms.Restarted,
		"evicted": ms.Evicted, "fragments": ms.Fragments, "cut": ms.Cut, "reordered": ms.Reordered,
	}
	var other uint64
	for _, n := range cs.Other {
		other += n
	}
	fr.Notes = append(fr.Notes, fmt.Sprintf("metered %d IP packets (%d bytes) into %d flows (idle timeout %s, active %s); %d packets not IP",
		ms.Packets, ms.Bytes, ms.Flows, cfg.Idle, cfg.Active, other))
	if cs.Decapsulated > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d packets metered inside the overlay that carried them (VXLAN, GRE bridging, ERSPAN)", cs.Decapsulated))
	}
	if ms.Evicted > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d flows ended early: more than %d open at once", ms.Evicted, cfg.MaxFlows))
	}
	if ms.Cut > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d packets cut by the snap length before their ports: counted with ports 0", ms.Cut))
	}
	if ms.Reordered > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d packets out of time order", ms.Reordered))
	}
	if n := cs.Notes[pcap.NoteConcatenated]; n > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%s: %d times", pcap.NoteConcatenated, n))
	}
	if d.early.n > 0 {
		extra["flows_before_1990"] = d.early.n
		fr.Notes = append(fr.Notes, d.early.note())
	}
	return nil
}

// meteredKey is the key a metered capture is registered under: derived
// from its hash, so that the same file can also be read for its exports.
func meteredKey(sha [32]byte) [32]byte {
	return sha256.Sum256(append([]byte("flowcase metered capture\x00"), sha[:]...))
}

// isCapture reports whether the file's content (after gzip) is a pcap or
// pcapng capture.
func isCapture(path string) bool {
	var n int64
	br, _, c, err := openContent(path, &n)
	if err != nil {
		return false
	}
	defer c.Close()
	head, _ := br.Peek(12)
	return pcap.Sniff(head) != pcap.FormatAuto
}
