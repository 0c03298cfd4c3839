package main

import (
	"github.com/KimMachineGun/automemlimit/memlimit"
)

// memoryShare is the share of the machine's memory (or of the container's
// cgroup limit, when lower) that the Go runtime aims to keep the heap
// under. The detectors' state grows with the distinct hosts, pairs and
// triples of a case; by default the collector lets the heap grow to twice
// what is live between collections, so a report whose state nears half
// the memory could be killed for want of it. Under this limit the
// collector works harder instead. GOMEMLIMIT set by the user wins, and
// AUTOMEMLIMIT=off turns this off.
const memoryShare = 0.8

// setMemoryLimit sets the runtime's soft memory limit; it returns the
// limit (math.MaxInt64: none). The commands whose memory follows the case
// (ingest, compact, the detectors, top, timeline, analyze) call it first;
// the quick ones do not, as reading the cgroup files costs 0.3 ms.
func setMemoryLimit() int64 {
	limit, _ := memlimit.Set(memlimit.WithRatio(memoryShare),
		memlimit.WithProvider(memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)))
	return limit
}
