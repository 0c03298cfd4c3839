// Package nfgen makes NetFlow v5, NetFlow v9 and IPFIX export packets from
// flow.Record values and writes them, as UDP datagrams in Ethernet frames,
// into pcap captures. It is a test encoder: it produces on demand the cases
// that no exporter at hand makes (data before its template, template
// withdrawal and reuse, the 49.7-day sysUptime wrap, IPv6 flows and
// exporters, enterprise-specific and variable-length elements, RFC 5103
// reverse counters, options data with sampling, two exporters or domains
// reusing one template id, duplicate export packets, softflowd's v9 header
// count), and it writes large captures fast for benchmarks (Stream).
//
// Use:
//
//	e := &nfgen.Exporter{Addr: netip.MustParseAddrPort("192.0.2.1:2055"), Version: 9, Boot: boot}
//	e.Define(nfgen.Template{ID: 256, Fields: nfgen.IPv4Fields()})
//	tpl, _ := e.Begin(now).Templates(256).Bytes()  // a template-only packet
//	pkts, _ := e.AppendData(nil, now, 256, recs)   // data packets, PerPacket records each
//	want, _ := e.Expect(256, recs[0])              // what a decoder must make of recs[0]
//	cw, _ := nfgen.NewCaptureWriter(f)
//	cw.Write(nfgen.Datagram{Src: e.Addr, Dst: collector, Time: now, Payload: tpl})
//
// Encoding is exact or fails: a value that does not fit its field (a byte
// count in a 4-byte field, a millisecond time in a seconds field, an IPv6
// address in a v5 record) is an error, never silently cut, so a decoder
// test can compare every field of what it decodes with Expect.
//
// Conventions (the decoder's, ingest/netflow): times relative to sysUptime
// are milliseconds since Exporter.Boot, modulo 2^32 in v5/v9; the v9 and
// IPFIX export time is whole seconds, and the header sysUptime agrees with
// it to the millisecond; v5 ObsDomain is engine_type<<8 | engine_id.
//
// Everything is deterministic: no clock, no randomness; the same calls make
// the same bytes.
package nfgen
