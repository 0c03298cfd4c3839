// Package jsonflow decodes JSON flow evidence into flow.Record values, as a
// stream: a JSON array of flow objects (the seed script's --flow-file
// format) or NDJSON (one flow object per line, blank lines allowed).
//
// The decoder is a small hand-written scanner for flat JSON objects: values
// are strings, numbers, true, false or null; nested objects and arrays are
// checked and skipped. It does not allocate per field, reads through one
// bounded buffer, and never holds more than one record (at most MaxRecord
// bytes) in memory.
//
// A bad record is counted by reason (see the Reason constants), reported to
// Reader.OnReject, and skipped; the rest of the input is kept. Only input
// that cannot be read or followed at all stops the Reader (see Reader.Err).
//
// # Fields
//
// src_ip and dst_ip are required (IPv4 or IPv6, no zone); everything else
// is optional, null is the same as absent, and unknown keys are ignored.
// Numbers may be JSON numbers or numeric strings.
//
//	src_ip, dst_ip              SrcAddr, DstAddr
//	src_port, dst_port          SrcPort, DstPort (0-65535)
//	protocol                    Proto: a number or a name ("tcp", "UDP")
//	bytes_in, bytes_out         Bytes (forward), RevBytes (reverse)
//	packets, packets_out        Packets, RevPackets
//	tcp_flags                   TCPFlags: a number, "0x1b", or letters
//	                            (CEUAPRSF, "." for none: "SA", "...AP.SF")
//	icmp_type, icmp_code        ICMPType, ICMPCode
//	in_if, out_if               InIf, OutIf
//	src_as, dst_as              SrcAS, DstAS
//	next_hop, exporter          NextHop, Exporter (addresses)
//	vlan                        VLAN
//	observation_domain          ObsDomain
//	sampling_interval           SamplingInterval (absent or 0 means 1)
//	post_bytes, post_packets    PostBytes, PostPackets
//	flow_direction              Dir: "ingress", "egress", 0, 1 or 2
//	nat_src_ip, nat_dst_ip      NATSrcAddr, NATDstAddr
//	nat_src_port, nat_dst_port  NATSrcPort, NATDstPort
//	source                      ignored (the store assigns SourceID)
//
// # Time
//
// Start is the first present of start, first_seen, timestamp, ts. End is
// end or last_seen, else start plus duration (seconds, may be fractional),
// else start. A time is an RFC 3339 date-time (a space may replace the 'T';
// fractions to the nanosecond) or a unix epoch number in seconds,
// milliseconds, microseconds or nanoseconds, told apart by magnitude (below
// 1e11 seconds, below 1e14 ms, below 1e17 us, else ns). A date-time without
// a zone needs Options.InputTZ. A record with no time field at all takes
// Options.AssumeTime when it is set (the seed's format has no time). Times
// before 1990 or more than a day after Options.Now are rejected.
package jsonflow
