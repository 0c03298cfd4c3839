package netflow

import "github.com/flowcase/flowcase/internal/flow"

// ntpEpochOffset is the number of seconds from 1900-01-01 (NTP era 0) to
// 1970-01-01.
const ntpEpochOffset = 2208988800

// ntpToUnixNs converts an NTP timestamp (RFC 7011 dateTimeMicroseconds /
// dateTimeNanoseconds: 32-bit seconds since 1900, 32-bit fraction) to unix
// nanoseconds. Seconds below the 1970 offset are read as NTP era 1 (after
// February 2036).
func ntpToUnixNs(v uint64) int64 {
	secs := int64(v >> 32)
	if secs < ntpEpochOffset {
		secs += 1 << 32
	}
	frac := int64((v & 0xffffffff) * 1e9 >> 32)
	return (secs-ntpEpochOffset)*1e9 + frac
}

// uptimeToUnixNs converts a v5/v9 sysUpTime-relative time (ms): the export
// header says the device had been up sysUptime ms at unix time exportNs.
//
// The difference sysUptime - t is taken modulo 2^32, which keeps times
// right across the 49.7-day wrap of the uptime counter, except when t is
// slightly ahead of sysUptime (an exporter that stamps the header before
// its last flows): a difference within uptimeJitter below zero is read as
// signed, so such a flow ends just after the export time instead of 49.7
// days before it. (A plain signed 32-bit difference would place flows
// older than 24.8 days in the future; softflowd's export of
// ndpi__1kxun, whose uptime passed 2^31 ms, shows it.)
func uptimeToUnixNs(exportNs int64, sysUptime, t uint32) int64 {
	d := int64(sysUptime - t)
	if d > 1<<32-uptimeJitter {
		d -= 1 << 32
	}
	return exportNs - d*1e6
}

// uptimeJitter is how far (ms) a v5/v9 flow time may lie ahead of the
// header's sysUptime and still be read as "just after".
const uptimeJitter = 3_600_000

// ipfixUptimeToUnixMs converts IPFIX flowStart/EndSysUpTime (ms since the
// exporter's init) with systemInitTimeMilliseconds: init + value, as
// tshark and nfdump do. No wrap correction is tried: exporters replaying
// old traffic (softflowd -r) legitimately report flows long before the
// export time, which a correction would move by multiples of 2^32 ms.
func ipfixUptimeToUnixMs(initMs int64, up uint64) int64 {
	return initMs + int64(up)
}

// absTime returns the absolute time of a record's start (or end) from the
// best element present: milli/micro/nanoseconds, seconds, delta to export,
// then sysUpTime-relative.
func absTime(ctx *pktCtx, sc *scratch, ms, us, ns, sec, delta, up kind) (int64, bool) {
	if sc.has&(1<<ms|1<<us|1<<ns|1<<sec|1<<delta) == 0 {
		return uptimeTime(ctx, sc, up)
	}
	if v, ok := sc.get(ms); ok {
		return int64(v) * 1e6, true
	}
	if v, ok := sc.get(us); ok {
		return ntpToUnixNs(v), true
	}
	if v, ok := sc.get(ns); ok {
		return ntpToUnixNs(v), true
	}
	if v, ok := sc.get(sec); ok {
		return int64(v) * 1e9, true
	}
	if v, ok := sc.get(delta); ok {
		return ctx.exportNs - int64(v)*1e3, true
	}
	return uptimeTime(ctx, sc, up)
}

// uptimeTime is absTime from a sysUpTime-relative element. An IPFIX record
// may carry systemInitTimeMilliseconds itself (MikroTik's do, as RFC 5153
// 4.7 advises), which comes before the one of options data.
func uptimeTime(ctx *pktCtx, sc *scratch, up kind) (int64, bool) {
	v, ok := sc.get(up)
	switch {
	case !ok:
		return 0, false
	case ctx.version != 10:
		return uptimeToUnixNs(ctx.exportNs, ctx.sysUptime, uint32(v)), true
	}
	if initMs, own := sc.get(kSysInitMs); own {
		return ipfixUptimeToUnixMs(int64(initMs), v) * 1e6, true
	}
	if ctx.ds != nil && ctx.ds.hasInit {
		return ipfixUptimeToUnixMs(ctx.ds.sysInitMs, v) * 1e6, true
	}
	return 0, false
}

const obsKinds = 1<<kObsSec | 1<<kObsMs | 1<<kObsUs | 1<<kObsNs

// obsTime is the record's observation time (unix ns); call it only when
// one of obsKinds is present.
func obsTime(sc *scratch) int64 {
	if v, ok := sc.get(kObsMs); ok {
		return int64(v) * 1e6
	}
	if v, ok := sc.get(kObsUs); ok {
		return ntpToUnixNs(v)
	}
	if v, ok := sc.get(kObsNs); ok {
		return ntpToUnixNs(v)
	}
	v, _ := sc.get(kObsSec)
	return int64(v) * 1e9
}

func duration(sc *scratch) (int64, bool) {
	if v, ok := sc.get(kDurMs); ok {
		return int64(v) * 1e6, true
	}
	if v, ok := sc.get(kDurUs); ok {
		return int64(v) * 1e3, true
	}
	return 0, false
}

// finishTimes sets Start and End (End >= Start), falling back to the export
// header time when the record has no usable time.
//
// An observation time (IE 322-325) stands in for a missing start: a packet
// report's only time. A record with a start but neither end nor duration
// ends at its observation time when that is later: Cisco's NSEL (ASA)
// reports a connection's creation time (152) and the time of the event
// (323), its teardown for a deleted flow.
func finishTimes(ctx *pktCtx, rec *flow.Record, sc *scratch, info *PacketInfo) {
	start, hs := absTime(ctx, sc, kStartMs, kStartUs, kStartNs, kStartSec, kStartDeltaUs, kStartUptime)
	end, he := absTime(ctx, sc, kEndMs, kEndUs, kEndNs, kEndSec, kEndDeltaUs, kEndUptime)
	dur, hd := duration(sc)
	if sc.has&obsKinds != 0 && !(hs && he) {
		obs := obsTime(sc)
		switch {
		case !hs:
			start, hs = obs, true
		case !hd && obs > start:
			end, he = obs, true
		}
	}
	switch {
	case hs && he:
	case hs:
		end = start + dur
	case he:
		start = end - dur
	default:
		start, end = timesFromExport(ctx, sc, dur, hd)
		if flowLike(rec) {
			info.Skipped[ErrTimeFromExport]++
		}
	}
	if end < start {
		end = start
		if flowLike(rec) {
			info.Skipped[ErrTimeInverted]++
		}
	}
	rec.Start, rec.End = start, end
}

// flowLike reports whether rec has an address: the repairs of its times
// are counted only then, as a record without one (an event or statistics
// record) is not a flow and the caller rejects it as such.
func flowLike(rec *flow.Record) bool { return rec.SrcAddr.IsValid() || rec.DstAddr.IsValid() }

// timesFromExport places a record without absolute times at the export
// time, keeping its duration when the record tells it (IPFIX sysUpTime
// without systemInitTimeMilliseconds, or a duration element).
func timesFromExport(ctx *pktCtx, sc *scratch, dur int64, hasDur bool) (int64, int64) {
	s, okS := sc.get(kStartUptime)
	e, okE := sc.get(kEndUptime)
	if okS && okE {
		dur, hasDur = int64(uint32(e)-uint32(s))*1e6, true
	}
	if !hasDur {
		dur = 0
	}
	return ctx.exportNs - dur, ctx.exportNs
}
