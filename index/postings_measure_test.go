package index

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

// TestMeasureCoarse sizes the postings of a store's rows under several
// coarse rules (how docs/format/postings.md chose them). It runs only when
// FLOWCASE_MEASURE names a store; FLOWCASE_MEASURE_SEG cuts each hour into
// segments of that many rows (as many small files would).
func TestMeasureCoarse(t *testing.T) {
	dir := os.Getenv("FLOWCASE_MEASURE")
	if dir == "" {
		t.Skip("FLOWCASE_MEASURE not set")
	}
	segRows, _ := strconv.Atoi(os.Getenv("FLOWCASE_MEASURE_SEG"))
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type rules = struct{ port, proto, v4, v6 coarseRule }
	saved := coarseRules
	defer func() { coarseRules = saved }()
	var cfgs []rules
	cfgs = append(cfgs, rules{}) // no coarse section
	for _, c := range [][4]int{{4, 1, 4, 0}, {8, 1, 8, 0}, {8, 1, 16, 0}, {8, 2, 8, 0}} {
		cfgs = append(cfgs, rules{port: coarseRule{c[0], uint8(c[1])}, v4: coarseRule{c[2], uint8(c[3])}})
	}
	sizes := make([][numFields]int64, len(cfgs))
	// lookups: for each port rule, blocks a rare-port lookup yields vs
	// blocks that hold the value.
	got, own := make([]int64, len(cfgs)), make([]int64, len(cfgs))
	var rows int64
	var seg []flow.Record
	pbs := [numFields]*postingsBuilder{}
	widths := [numFields]int{FieldSrcAddr: 0, FieldDstAddr: 0, FieldSrcPort: 2, FieldDstPort: 2, FieldProto: 1}
	for f := FieldSrcAddr; f <= FieldProto; f++ {
		pbs[f] = newPostingsBuilder(widths[f])
	}
	flush := func() {
		for lo := 0; lo < len(seg); {
			hi := len(seg)
			if segRows > 0 {
				hi = min(lo+segRows, len(seg))
			}
			part := seg[lo:hi]
			for ci, c := range cfgs {
				coarseRules = c
				for f := FieldSrcAddr; f <= FieldProto; f++ {
					pbs[f].reset()
				}
				for i := range part {
					r := &part[i]
					if r.SrcAddr.IsValid() {
						pbs[FieldSrcAddr].addAddr(r.SrcAddr, uint32(i))
					}
					if r.DstAddr.IsValid() {
						pbs[FieldDstAddr].addAddr(r.DstAddr, uint32(i))
					}
					pbs[FieldSrcPort].addNum(uint32(r.SrcPort), uint32(i))
					pbs[FieldDstPort].addNum(uint32(r.DstPort), uint32(i))
					pbs[FieldProto].addNum(uint32(r.Proto), uint32(i))
				}
				for f := FieldSrcAddr; f <= FieldProto; f++ {
					if ci > 0 && c.port.minRows == 0 && f >= FieldSrcPort {
						continue // unchanged from cfgs[0]
					}
					if ci > 0 && c.v4.minRows == 0 && c.v6.minRows == 0 && f <= FieldDstAddr {
						continue
					}
					b := pbs[f]
					sizes[ci][f] += int64(len(b.build()))
					if (f == FieldSrcPort && c.port.minRows > 0) || (f == FieldSrcAddr && c.port.minRows == 0) {
						// every rare value: units of its bucket vs its own units
						units := map[uint64]int{}
						for _, k := range b.bk {
							units[k.key] = k.hi - k.lo
						}
						n4 := len(b.bk)
						if f == FieldSrcAddr {
							n4 = 0
							for i := range b.cs {
								if i == 0 || b.cs[i].num>>c.v4.shift != b.cs[i-1].num>>c.v4.shift {
									n4++
								}
							}
						}
						k4 := map[uint64]int{}
						k6 := map[uint64]int{}
						for i, k := range b.bk {
							if i < n4 {
								k4[k.key] = k.hi - k.lo
							} else {
								k6[k.key] = k.hi - k.lo
							}
						}
						count := func(e entry, n int) {
							got[ci] += int64(n)
							seen := map[uint32]bool{}
							for _, r := range e.list {
								seen[r/coarseUnit] = true
							}
							own[ci] += int64(len(seen))
						}
						for _, e := range b.cs {
							if f == FieldSrcPort {
								count(e, units[uint64(e.num>>c.port.shift)])
							} else {
								count(e, k4[uint64(e.num>>c.v4.shift)])
							}
						}
						for _, e := range b.cs6 {
							count(e, k6[binary.BigEndian.Uint64(e.v6[:8])>>c.v6.shift])
						}
					}
				}
			}
			lo = hi
		}
		rows += int64(len(seg))
		seg = seg[:0]
	}
	hour := int64(-1)
	_, err = s.Scan(Everything(), func(r *flow.Record) bool {
		h := r.Start / 3600e9
		if h != hour && len(seg) > 0 {
			flush()
		}
		hour = h
		seg = append(seg, flow.Record{SrcAddr: r.SrcAddr, DstAddr: r.DstAddr, SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Proto})
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	flush()
	for ci, c := range cfgs {
		line := fmt.Sprintf("port T=%d k=%d  addr T=%d k4=%d k6=%d:", c.port.minRows, c.port.shift, c.v4.minRows, c.v4.shift, c.v6.shift)
		for f := FieldSrcAddr; f <= FieldProto; f++ {
			line += fmt.Sprintf(" %s %.3f", FieldName(f), float64(sizes[ci][f])/float64(rows))
		}
		if own[ci] > 0 {
			line += fmt.Sprintf("  rare src lookup: %.2f blocks per block of the value", float64(got[ci])/float64(own[ci]))
		}
		t.Log(line)
	}
	t.Logf("%d rows", rows)
}
