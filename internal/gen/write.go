package gen

import (
	"io"
	"strconv"
	"time"

	"github.com/flowcase/flowcase/internal/flow"
)

// JSONWriter writes flows in the seed script's JSON form (its fields plus
// start, end and duration; icmp_type and icmp_code for ICMP, and
// sampling_interval when the record is sampled): one object per line
// (NDJSON) or a JSON array.
type JSONWriter struct {
	w     io.Writer
	array bool
	n     int
	buf   []byte
}

// NewJSONWriter starts a writer; array selects a JSON array over NDJSON.
func NewJSONWriter(w io.Writer, array bool) *JSONWriter {
	return &JSONWriter{w: w, array: array}
}

// Write writes one flow.
func (j *JSONWriter) Write(r *flow.Record) error {
	b := j.buf[:0]
	if j.array {
		if j.n == 0 {
			b = append(b, "[\n"...)
		} else {
			b = append(b, ",\n"...)
		}
	}
	b = append(b, `{"src_ip":"`...)
	b = r.SrcAddr.AppendTo(b)
	b = append(b, `","dst_ip":"`...)
	b = r.DstAddr.AppendTo(b)
	b = append(b, `","src_port":`...)
	b = strconv.AppendUint(b, uint64(r.SrcPort), 10)
	b = append(b, `,"dst_port":`...)
	b = strconv.AppendUint(b, uint64(r.DstPort), 10)
	b = append(b, `,"protocol":`...)
	b = strconv.AppendUint(b, uint64(r.Proto), 10)
	b = append(b, `,"bytes_in":`...)
	b = strconv.AppendUint(b, r.Bytes, 10)
	b = append(b, `,"bytes_out":`...)
	b = strconv.AppendUint(b, r.RevBytes, 10)
	b = append(b, `,"packets":`...)
	b = strconv.AppendUint(b, r.Packets, 10)
	b = append(b, `,"packets_out":`...)
	b = strconv.AppendUint(b, r.RevPackets, 10)
	b = append(b, `,"tcp_flags":`...)
	b = strconv.AppendUint(b, uint64(r.TCPFlags), 10)
	if flow.IsICMP(r.Proto) {
		b = append(b, `,"icmp_type":`...)
		b = strconv.AppendUint(b, uint64(r.ICMPType), 10)
		b = append(b, `,"icmp_code":`...)
		b = strconv.AppendUint(b, uint64(r.ICMPCode), 10)
	}
	if r.SamplingInterval > 1 {
		b = append(b, `,"sampling_interval":`...)
		b = strconv.AppendUint(b, uint64(r.SamplingInterval), 10)
	}
	b = append(b, `,"start":"`...)
	b = time.Unix(0, r.Start).UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","end":"`...)
	b = time.Unix(0, r.End).UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","duration":`...)
	b = strconv.AppendFloat(b, float64(r.End-r.Start)/1e9, 'f', -1, 64)
	b = append(b, '}')
	if !j.array {
		b = append(b, '\n')
	}
	j.buf = b
	j.n++
	_, err := j.w.Write(b)
	return err
}

// Close ends a JSON array (an empty one when nothing was written).
func (j *JSONWriter) Close() error {
	if !j.array {
		return nil
	}
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}
