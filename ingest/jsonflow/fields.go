package jsonflow

import (
	"math"
	"net/netip"
	"strings"

	"github.com/flowcase/flowcase/internal/flow"
)

// fieldKind says how a JSON field is read.
type fieldKind uint8

const (
	fieldAddr          fieldKind = iota // an address string
	fieldPort                           // 0-65535
	fieldCount                          // a whole number up to field.max
	fieldProto                          // a number or a protocol name
	fieldFlags                          // TCP flags: number or letters
	fieldDir                            // flow direction
	fieldTime                           // kept in a slot until the object ends
	fieldHistory                        // Zeek's connection history letters: TCP flags
	fieldArgusState                     // Argus's state: both sides' TCP flags ("FSPA_FSPA")
	fieldTotalBytes                     // Argus's TotBytes: both directions (the rest of SrcBytes is reverse)
	fieldTotalPackets                   // Argus's TotPkts: both directions
	fieldFlagCount                      // CICFlowMeter's count of packets with one TCP flag (field.max is the flag)
	fieldFlagBits                       // one side's TCP flags (nProbe's CLIENT_ and SERVER_TCP_FLAGS): ORed
	fieldHexFlags                       // TCP flags in hex without 0x (Suricata's tcp.tcp_flags, "1b")
	fieldEventType                      // Suricata's event_type: only "flow" and "netflow" events are flows
	fieldZeekUID                        // Zeek's uid: a Zeek log record (conn.log's has conn_state)
	fieldZeekConnState                  // Zeek's conn_state
	fieldZeekPath                       // Zeek's _path: the log a record belongs to
	fieldW3CDate                        // a W3C log's date (w3c.go)
	fieldW3CClock                       // a W3C log's time of day
	fieldLogStatus                      // AWS VPC Flow Logs' log-status: only OK records are flows
	fieldTotalOnly                      // OCSF's traffic.bytes and .packets: both directions, forward when nothing splits them
	fieldIgnore                         // known, accepted, not used
)

// Time slots: the time fields are resolved after the whole object is read,
// by priority, not by the order in which they appear.
const (
	slotStart = iota
	slotFirstSeen
	slotTimestamp
	slotTS
	slotEnd
	slotLastSeen
	slotDuration
	slotDurationNs
	slotDurationUs
	slotDurationMs
	numSlots
)

var slotNames = [numSlots]string{"start", "first_seen", "timestamp", "ts", "end", "last_seen", "duration", "event.duration",
	"Flow Duration", "FLOW_DURATION_MILLISECONDS"}

// field describes one known JSON key.
type field struct {
	name string
	kind fieldKind
	max  uint64 // fieldCount: the largest value the Record field holds
	slot int    // fieldTime
	addr func(*flow.Record) *netip.Addr
	set  func(*flow.Record, uint64) // fieldPort, fieldCount
	zeek bool                       // Zeek's conn.log: ICMP type and code in the ports
	icmp bool                       // an ICMP type or code (fieldCount)
	// noICMP: a source address of a tool whose ICMP records carry no type
	// (untypedICMPKeys).
	noICMP bool
	// suricata: Suricata's name of the destination address (dest_ip).
	suricata bool
	// argus: a column of a data set Argus made (UNSW-NB15: unswFields):
	// ICMP types are in the source port, protocols by Argus's names.
	argus bool
	// splunk: Splunk's _time, a record exported under the CIM's names.
	splunk bool
}

func addrField(name string, f func(*flow.Record) *netip.Addr) field {
	return field{name: name, kind: fieldAddr, addr: f}
}

func portField(name string, set func(*flow.Record, uint64)) field {
	return field{name: name, kind: fieldPort, max: math.MaxUint16, set: set}
}

func countField(name string, max uint64, set func(*flow.Record, uint64)) field {
	return field{name: name, kind: fieldCount, max: max, set: set}
}

func icmpField(name string, set func(*flow.Record, uint64)) field {
	return field{name: name, kind: fieldCount, max: math.MaxUint8, set: set, icmp: true}
}

// fields maps each known JSON key to how it is read.
var fields = fieldMap(
	addrField("src_ip", func(r *flow.Record) *netip.Addr { return &r.SrcAddr }),
	addrField("dst_ip", func(r *flow.Record) *netip.Addr { return &r.DstAddr }),
	addrField("next_hop", func(r *flow.Record) *netip.Addr { return &r.NextHop }),
	addrField("exporter", func(r *flow.Record) *netip.Addr { return &r.Exporter }),
	addrField("nat_src_ip", func(r *flow.Record) *netip.Addr { return &r.NATSrcAddr }),
	addrField("nat_dst_ip", func(r *flow.Record) *netip.Addr { return &r.NATDstAddr }),
	portField("src_port", func(r *flow.Record, v uint64) { r.SrcPort = uint16(v) }),
	portField("dst_port", func(r *flow.Record, v uint64) { r.DstPort = uint16(v) }),
	portField("nat_src_port", func(r *flow.Record, v uint64) { r.NATSrcPort = uint16(v) }),
	portField("nat_dst_port", func(r *flow.Record, v uint64) { r.NATDstPort = uint16(v) }),
	countField("bytes_in", math.MaxUint64, func(r *flow.Record, v uint64) { r.Bytes = v }),
	countField("bytes_out", math.MaxUint64, func(r *flow.Record, v uint64) { r.RevBytes = v }),
	countField("packets", math.MaxUint64, func(r *flow.Record, v uint64) { r.Packets = v }),
	countField("packets_out", math.MaxUint64, func(r *flow.Record, v uint64) { r.RevPackets = v }),
	countField("post_bytes", math.MaxUint64, func(r *flow.Record, v uint64) { r.PostBytes = v }),
	countField("post_packets", math.MaxUint64, func(r *flow.Record, v uint64) { r.PostPackets = v }),
	icmpField("icmp_type", func(r *flow.Record, v uint64) { r.ICMPType = uint8(v) }),
	icmpField("icmp_code", func(r *flow.Record, v uint64) { r.ICMPCode = uint8(v) }),
	countField("in_if", math.MaxUint32, func(r *flow.Record, v uint64) { r.InIf = uint32(v) }),
	countField("out_if", math.MaxUint32, func(r *flow.Record, v uint64) { r.OutIf = uint32(v) }),
	countField("src_as", math.MaxUint32, func(r *flow.Record, v uint64) { r.SrcAS = uint32(v) }),
	countField("dst_as", math.MaxUint32, func(r *flow.Record, v uint64) { r.DstAS = uint32(v) }),
	countField("vlan", math.MaxUint16, func(r *flow.Record, v uint64) { r.VLAN = uint16(v) }),
	countField("observation_domain", math.MaxUint32, func(r *flow.Record, v uint64) { r.ObsDomain = uint32(v) }),
	countField("sampling_interval", math.MaxUint32, func(r *flow.Record, v uint64) { r.SamplingInterval = uint32(max(v, 1)) }),
	field{name: "protocol", kind: fieldProto},
	field{name: "tcp_flags", kind: fieldFlags},
	field{name: "flow_direction", kind: fieldDir},
	field{name: "source", kind: fieldIgnore},
	field{name: "start", kind: fieldTime, slot: slotStart},
	field{name: "first_seen", kind: fieldTime, slot: slotFirstSeen},
	field{name: "timestamp", kind: fieldTime, slot: slotTimestamp},
	field{name: "ts", kind: fieldTime, slot: slotTS},
	field{name: "end", kind: fieldTime, slot: slotEnd},
	field{name: "last_seen", kind: fieldTime, slot: slotLastSeen},
	field{name: "duration", kind: fieldTime, slot: slotDuration},
	field{name: "event.duration", kind: fieldTime, slot: slotDurationNs}, // ECS: nanoseconds
	field{name: "history", kind: fieldHistory},
	// CICFlowMeter (the CIC-IDS2017 and CSE-CIC-IDS2018 datasets): the
	// flow's duration in microseconds, and how many packets (both ways)
	// carried each TCP flag.
	field{name: "Flow Duration", kind: fieldTime, slot: slotDurationUs},
	// Splunk's _time: its exports follow the CIM, whose bytes_in and
	// packets_in are the destination's (see decoder.finish).
	field{name: "_time", kind: fieldTime, slot: slotTimestamp, splunk: true},
	// OCSF's totals: AWS Security Lake's VPC Flow Logs give only them (one
	// direction a record); beside bytes_in and bytes_out they add nothing.
	field{name: "traffic.bytes", kind: fieldTotalOnly},
	field{name: "traffic.packets", kind: fieldTotalOnly, max: 1},
	flagCount("FIN Flag Count", flow.FIN), flagCount("SYN Flag Count", flow.SYN), flagCount("RST Flag Count", flow.RST),
	flagCount("PSH Flag Count", flow.PSH), flagCount("ACK Flag Count", flow.ACK), flagCount("URG Flag Count", flow.URG),
	flagCount("ECE Flag Count", flow.ECE), flagCount("CWE Flag Count", flow.CWR),
	// Arkime's sessions (its API's JSON, Elasticsearch documents): packets
	// counted per TCP flag, both ways; source.* and destination.* are ECS's
	flagCount("tcpflags.syn", flow.SYN), flagCount("tcpflags.syn-ack", flow.SYN|flow.ACK), flagCount("tcpflags.ack", flow.ACK),
	flagCount("tcpflags.psh", flow.PSH), flagCount("tcpflags.fin", flow.FIN), flagCount("tcpflags.rst", flow.RST),
	flagCount("tcpflags.urg", flow.URG),
	// nProbe (its text dumps, and the NF-* datasets made with it: NF-UNSW-NB15,
	// NF-BoT-IoT, NF-ToN-IoT, NF-CSE-CIC-IDS2018): NetFlow v9's names in
	// capitals. ICMP_TYPE is v9's type*256 + code; each side's TCP flags
	// are ORed, as an exporter's biflow flags are.
	field{name: "FLOW_DURATION_MILLISECONDS", kind: fieldTime, slot: slotDurationMs},
	countField("ICMP_TYPE", math.MaxUint16, func(r *flow.Record, v uint64) { r.ICMPType, r.ICMPCode = uint8(v>>8), uint8(v) }),
	field{name: "CLIENT_TCP_FLAGS", kind: fieldFlagBits}, field{name: "SERVER_TCP_FLAGS", kind: fieldFlagBits},
	// Zeek's other logs (dns.log, http.log, ...) name connections too: only
	// conn.log's records, which have a conn_state, are flows.
	field{name: "uid", kind: fieldZeekUID}, field{name: "conn_state", kind: fieldZeekConnState},
	// Keys only Zeek's other logs have, for their JSON records without a
	// uid (files, dhcp, x509, notice, software, stats, capture_loss): not
	// flows, passed over as Zeek's records without conn_state.
	field{name: "fuid", kind: fieldZeekUID}, field{name: "uids", kind: fieldZeekUID},
	field{name: "conn_uids", kind: fieldZeekUID}, field{name: "percent_lost", kind: fieldZeekUID},
	field{name: "pkts_proc", kind: fieldZeekUID}, field{name: "software_type", kind: fieldZeekUID},
	field{name: "peer_descr", kind: fieldZeekUID}, field{name: "certificate.version", kind: fieldZeekUID},
	field{name: "assigned_addr", kind: fieldZeekUID},
	field{name: "_path", kind: fieldZeekPath},
	// AWS VPC Flow Logs: NODATA and SKIPDATA records are not flows.
	field{name: "log-status", kind: fieldLogStatus},
	// Suricata's eve.json: see the aliases.
	field{name: "tcp.tcp_flags", kind: fieldHexFlags},
	field{name: "event_type", kind: fieldEventType},
	// Argus (ra -c ,), as CTU-13's binetflow files: see decoder.finish.
	field{name: "State", kind: fieldArgusState},
	field{name: "TotBytes", kind: fieldTotalBytes},
	field{name: "TotPkts", kind: fieldTotalPackets},
	// Zeek's conn.log: for ICMP the originator's "port" is the type and the
	// responder's the code (Zeek's Conn::Info documentation).
	field{name: "id.orig_p", kind: fieldPort, max: math.MaxUint16, zeek: true, set: func(r *flow.Record, v uint64) { r.SrcPort = uint16(v) }},
	field{name: "id.resp_p", kind: fieldPort, max: math.MaxUint16, zeek: true, set: func(r *flow.Record, v uint64) { r.DstPort = uint16(v) }},
)

// aliases are the names other tools give the same fields, so their JSON
// exports read as they are: nfdump (`nfdump -o json`), pmacct and goflow2.
// nfdump writes local times without a zone: pass --input-tz.
var aliases = map[string]string{
	// nfdump
	"src4_addr": "src_ip", "dst4_addr": "dst_ip", "src6_addr": "src_ip", "dst6_addr": "dst_ip",
	"in_bytes": "bytes_in", "in_packets": "packets", "out_bytes": "bytes_out", "out_packets": "packets_out",
	"first": "first_seen", "last": "last_seen", // 1.7
	"t_first": "first_seen", "t_last": "last_seen", // 1.6
	"input_snmp": "in_if", "output_snmp": "out_if",
	"ip4_next_hop": "next_hop", "ip6_next_hop": "next_hop", "ip4_router": "exporter", "ip6_router": "exporter",
	"src_vlan": "vlan", "proto": "protocol",
	// pmacct (nfacctd/sfacctd/pmacctd print or Kafka plugins, JSON)
	"ip_src": "src_ip", "ip_dst": "dst_ip", "port_src": "src_port", "port_dst": "dst_port",
	"ip_proto": "protocol", "timestamp_start": "first_seen", "timestamp_end": "last_seen",
	"peer_ip_src": "exporter",
	// goflow2
	"src_addr": "src_ip", "dst_addr": "dst_ip", "bytes": "bytes_in", "sampler_address": "exporter",
	"sampling_rate": "sampling_interval", "time_flow_start_ns": "first_seen", "time_flow_end_ns": "last_seen",
	// The Elastic Common Schema (Filebeat's and Elastic Agent's NetFlow
	// input, nested or with dotted keys): source.bytes went from the
	// source to the destination, destination.bytes back.
	"source.ip": "src_ip", "destination.ip": "dst_ip", "source.port": "src_port", "destination.port": "dst_port",
	"source.bytes": "bytes_in", "destination.bytes": "bytes_out",
	"source.packets": "packets", "destination.packets": "packets_out",
	"network.iana_number": "protocol", "network.transport": "protocol",
	"event.start": "start", "event.end": "end", "@timestamp": "timestamp", "observer.ip": "exporter",
	// Filebeat's netflow.* fields (IPFIX names)
	"netflow.source_ipv4_address": "src_ip", "netflow.destination_ipv4_address": "dst_ip",
	"netflow.source_ipv6_address": "src_ip", "netflow.destination_ipv6_address": "dst_ip",
	"netflow.source_transport_port": "src_port", "netflow.destination_transport_port": "dst_port",
	"netflow.protocol_identifier": "protocol", "netflow.tcp_control_bits": "tcp_flags",
	"netflow.octet_delta_count": "bytes_in", "netflow.packet_delta_count": "packets",
	"netflow.flow_start_milliseconds": "first_seen", "netflow.flow_end_milliseconds": "last_seen",
	"netflow.icmp_type_ipv4": "icmp_type", "netflow.icmp_code_ipv4": "icmp_code",
	"netflow.icmp_type_ipv6": "icmp_type", "netflow.icmp_code_ipv6": "icmp_code",
	// nfdump's CSV (`nfdump -o csv`, 1.6 and 1.7): ts is the start
	"te": "last_seen", "td": "duration", "sa": "src_ip", "da": "dst_ip", "sp": "src_port", "dp": "dst_port",
	"pr": "protocol", "flg": "tcp_flags", "ipkt": "packets", "ibyt": "bytes_in", "opkt": "packets_out",
	"obyt": "bytes_out", "in": "in_if", "out": "out_if", "sas": "src_as", "das": "dst_as", "ra": "exporter",
	"nh": "next_hop", "svln": "vlan",
	// Zeek's conn.log as JSON: the originator opened the connection;
	// bytes are IP-level (orig_bytes, payload only, is not read)
	"id.orig_h": "src_ip", "id.resp_h": "dst_ip",
	"orig_ip_bytes": "bytes_in", "resp_ip_bytes": "bytes_out", "orig_pkts": "packets", "resp_pkts": "packets_out",
	// Argus's CSV (ra -c ,; CTU-13's binetflow): times are local, without a zone
	"StartTime": "start", "Dur": "duration", "Proto": "protocol", "SrcAddr": "src_ip", "DstAddr": "dst_ip",
	"Sport": "src_port", "Dport": "dst_port", "SrcBytes": "bytes_in",
	// CICFlowMeter's CSV (CIC-IDS2017's names, then CSE-CIC-IDS2018's):
	// forward is the flow's first packet's direction; bytes are payload only
	"Source IP": "src_ip", "Destination IP": "dst_ip", "Source Port": "src_port", "Destination Port": "dst_port",
	"Protocol": "protocol", "Timestamp": "timestamp",
	"Total Fwd Packets": "packets", "Total Backward Packets": "packets_out",
	"Total Length of Fwd Packets": "bytes_in", "Total Length of Bwd Packets": "bytes_out",
	"Src IP": "src_ip", "Dst IP": "dst_ip", "Src Port": "src_port", "Dst Port": "dst_port",
	"Tot Fwd Pkts": "packets", "Tot Bwd Pkts": "packets_out", "TotLen Fwd Pkts": "bytes_in", "TotLen Bwd Pkts": "bytes_out",
	"FIN Flag Cnt": "FIN Flag Count", "SYN Flag Cnt": "SYN Flag Count", "RST Flag Cnt": "RST Flag Count",
	"PSH Flag Cnt": "PSH Flag Count", "ACK Flag Cnt": "ACK Flag Count", "URG Flag Cnt": "URG Flag Count",
	"ECE Flag Cnt": "ECE Flag Count", "CWE Flag Cnt": "CWE Flag Count",
	// nProbe: IN_ is source to destination, OUT_ back (biflows); both
	// address columns may be present, the unused one "::" or "0.0.0.0"
	// (decoder.apply keeps the address that is set)
	"IPV4_SRC_ADDR": "src_ip", "IPV4_DST_ADDR": "dst_ip", "IPV6_SRC_ADDR": "src_ip", "IPV6_DST_ADDR": "dst_ip",
	"L4_SRC_PORT": "src_port", "L4_DST_PORT": "dst_port", "PROTOCOL": "protocol", "TCP_FLAGS": "tcp_flags",
	"IN_BYTES": "bytes_in", "IN_PKTS": "packets", "OUT_BYTES": "bytes_out", "OUT_PKTS": "packets_out",
	"FLOW_START_MILLISECONDS": "start", "FLOW_END_MILLISECONDS": "end",
	"FLOW_START_MICROSECONDS": "start", "FLOW_END_MICROSECONDS": "end",
	"FLOW_START_SEC": "first_seen", "FLOW_END_SEC": "last_seen",
	"FIRST_SWITCHED": "first_seen", "LAST_SWITCHED": "last_seen", "FLOW_DURATION_MICROSECONDS": "Flow Duration",
	"ICMP_IPV4_TYPE": "icmp_type", "ICMP_IPV4_CODE": "icmp_code",
	"INPUT_SNMP": "in_if", "OUTPUT_SNMP": "out_if", "SRC_AS": "src_as", "DST_AS": "dst_as", "SRC_VLAN": "vlan",
	"IPV4_NEXT_HOP": "next_hop", "IPV6_NEXT_HOP": "next_hop",
	"EXPORTER_IPV4_ADDRESS": "exporter", "EXPORTER_IPV6_ADDRESS": "exporter", "SAMPLING_INTERVAL": "sampling_interval",
	// Suricata's eve.json: a "flow" event is a connection both ways (src
	// opened it: toserver is forward), a "netflow" event one direction;
	// flow.start and flow.end are its times (timestamp is the event's).
	"dest_ip": "dst_ip", "dest_port": "dst_port",
	"flow.start": "start", "flow.end": "end",
	"flow.bytes_toserver": "bytes_in", "flow.bytes_toclient": "bytes_out",
	"flow.pkts_toserver": "packets", "flow.pkts_toclient": "packets_out",
	"netflow.start": "start", "netflow.end": "end", "netflow.bytes": "bytes_in", "netflow.pkts": "packets",
	// Splunk's Network Traffic model (CIM), as its exports name the fields:
	// _time, dest_ip and dest_port (as Suricata's), transport, and
	// packets_in beside packets_out.
	"transport": "protocol", "packets_in": "packets",
	// OCSF's Network Activity (class 4001: AWS Security Lake's VPC Flow
	// Logs, and the tools that write OCSF): endpoints, connection_info and
	// traffic, whose bytes_out is the source's (forward) and bytes_in the
	// destination's; times in epoch milliseconds, time at the lowest
	// priority (as ts), so that a time of day named so in another CSV never
	// overrides its timestamp.
	"src_endpoint.ip": "src_ip", "dst_endpoint.ip": "dst_ip", "src_endpoint.port": "src_port", "dst_endpoint.port": "dst_port",
	"connection_info.protocol_num": "protocol", "connection_info.protocol_name": "protocol", "connection_info.tcp_flags": "tcp_flags",
	"traffic.bytes_out": "bytes_in", "traffic.bytes_in": "bytes_out", "traffic.packets_out": "packets", "traffic.packets_in": "packets_out",
	"start_time": "start", "end_time": "end", "time": "ts",
	// AWS VPC Flow Logs (the default format and custom ones, with their
	// header line): each record is one direction of traffic through an
	// interface over an aggregation interval, times in unix seconds; srcaddr
	// is the interface-level address (pkt-srcaddr, behind a NAT gateway, is
	// not read)
	"srcaddr": "src_ip", "dstaddr": "dst_ip", "srcport": "src_port", "dstport": "dst_port",
	// ToN-IoT's network data (Zeek's conn.log flattened to CSV under the
	// seed's address names): the IP-level bytes and packets each way (its
	// src_bytes and dst_bytes are payload alone, as Zeek's orig_bytes)
	"src_ip_bytes": "bytes_in", "dst_ip_bytes": "bytes_out", "src_pkts": "packets", "dst_pkts": "packets_out",
	"tcp-flags": "tcp_flags", "flow-direction": "flow_direction",
	// Google Cloud VPC Flow Logs (Cloud Logging's JSON): bytes_sent and
	// packets_sent go from the connection's source to its destination
	"jsonPayload.connection.src_ip": "src_ip", "jsonPayload.connection.dest_ip": "dst_ip",
	"jsonPayload.connection.src_port": "src_port", "jsonPayload.connection.dest_port": "dst_port",
	"jsonPayload.connection.protocol": "protocol", "jsonPayload.bytes_sent": "bytes_in", "jsonPayload.packets_sent": "packets",
	"jsonPayload.start_time": "start", "jsonPayload.end_time": "end",
	// Palo Alto Networks' traffic logs as PAN-OS and Panorama export them
	// to CSV (Source Port, Destination Port: as CICFlowMeter's): Start
	// Time is local, without a zone (give --input-tz); bytes and packets
	// sent went from the source, received came back
	"Source address": "src_ip", "Destination address": "dst_ip",
	"NAT Source IP": "nat_src_ip", "NAT Destination IP": "nat_dst_ip",
	"NAT Source Port": "nat_src_port", "NAT Destination Port": "nat_dst_port",
	"IP Protocol": "protocol", "Bytes Sent": "bytes_in", "Bytes Received": "bytes_out",
	"pkts_sent": "packets", "pkts_received": "packets_out", "Packets Sent": "packets", "Packets Received": "packets_out",
	"Start Time": "start", "Elapsed Time (sec)": "duration",
	// Arkime's sessions: first and last packet in epoch milliseconds
	"firstPacket": "first_seen", "lastPacket": "last_seen", "ipProtocol": "protocol",
	// Logstash's netflow codec (NetFlow v9 names under "netflow")
	"netflow.ipv4_src_addr": "src_ip", "netflow.ipv4_dst_addr": "dst_ip",
	"netflow.ipv6_src_addr": "src_ip", "netflow.ipv6_dst_addr": "dst_ip",
	"netflow.l4_src_port": "src_port", "netflow.l4_dst_port": "dst_port", "netflow.protocol": "protocol",
	"netflow.in_bytes": "bytes_in", "netflow.in_pkts": "packets", "netflow.tcp_flags": "tcp_flags",
	"netflow.first_switched": "first_seen", "netflow.last_switched": "last_seen",
}

// suricataNotFlows are the event_type values of Suricata's eve.json that
// are not flows (its "flow" and "netflow" events are); other tools use
// event_type too (pmacct writes "purge"), so only these are passed over.
var suricataNotFlows = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Fields(`alert anomaly drop stats engine http http2 dns doh2 tls quic ssh smtp pop3 imap ftp ftp_data tftp
		fileinfo files smb nfs dcerpc krb5 ike ikev2 rdp rfb sip snmp mqtt modbus dnp3 enip dhcp ntp ldap pgsql mysql redis websocket
		bittorrent-dht bittorrent_dht arp frame mdns netbios tls_cert`) {
		m[t] = true
	}
	return m
}()

func flagCount(name string, flag uint8) field {
	return field{name: name, kind: fieldFlagCount, max: uint64(flag)}
}

func fieldMap(fs ...field) map[string]*field {
	m := make(map[string]*field, len(fs)+len(aliases))
	for i := range fs {
		m[fs[i].name] = &fs[i]
	}
	for alias, name := range aliases {
		m[alias] = m[name]
		if untypedICMPKeys[alias] || alias == "dest_ip" {
			f := *m[name]
			f.noICMP, f.suricata = untypedICMPKeys[alias], alias == "dest_ip"
			m[alias] = &f
		}
	}
	return m
}

// untypedICMPKeys are source addresses' names in the evidence of tools
// whose ICMP records carry no type, not even in the ports: AWS's and
// Google Cloud's VPC Flow Logs, CICFlowMeter. Their ICMP records are read
// as echo requests (decoder.finish).
var untypedICMPKeys = map[string]bool{
	"srcaddr": true, "jsonPayload.connection.src_ip": true, "Source IP": true, "Src IP": true,
}
