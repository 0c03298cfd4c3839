// Package pcap reads UDP datagrams out of pcap and pcapng captures: the NetFlow v5, v9 and
// IPFIX export packets an investigator's collector recorded, with where and when each one
// was seen. It knows nothing of NetFlow; the decoders get the payloads. The one exception is
// IPFIX over TCP (tcp.go): a TCP stream whose bytes start with an IPFIX message header is put
// back in order and cut into messages by their length fields, each returned as a datagram.
//
// # Formats
//
// pcap (microsecond and nanosecond timestamps, either byte order, any 2.x version; captures
// joined with cat, a file header where a record would start, read on with that header's byte
// order, time unit and link type, and noted) and pcapng
// (several sections; several interfaces, each with its own link type, if_tsresol and
// if_tsoffset; enhanced, simple and obsolete packet blocks). A gzip-compressed capture (first
// bytes 1f 8b) is decompressed by NewReader itself, so a caller may pass a .pcap.gz as it is;
// Sniff does not look inside gzip. Offsets in errors are then offsets in the decompressed
// stream.
//
// The capture files are parsed here, not by gopacket's pcapgo: on Linux pcapgo (v1.1.19)
// also builds its live-capture code, which needs golang.org/x/net, not in go.mod; and its
// readers allocate a record's caplen (or a header's snap length) unchecked, keep link types
// in a uint8 (Linux SLL2, 276, comes back as 20) and divide by zero on an if_tsresol
// exponent of 64 or more. The tests use gopacket's layers as an independent decoder to
// cross-check this one.
//
// # Link layers
//
// Ethernet (with any stack of up to 8 802.1Q, 802.1ad and 0x9100/0x9200 VLAN tags), Linux
// cooked capture v1 (113) and v2 (276, what `tcpdump -i any` writes), raw IP (101, and the
// DLT_RAW values 12 and 14 some writers put in files), raw IPv4 (228) and IPv6 (229), BSD
// null (0, either byte order) and OpenBSD loop (108). IPv6 extension headers are walked to
// reach UDP. IPv4 and IPv6 fragments are put back together in bounded memory (see Limits).
// Packets of other link types are counted in Stats.Skipped and skipped.
//
// # Damaged files
//
// Every length is checked before it is used, and no length read from the file decides an
// allocation:
//   - input that is not a capture: NewReader fails with ErrNotCapture, saying what it found;
//   - the file ends inside a packet: that packet is counted in Stats.Skipped as
//     "truncated packet"; everything before it is returned and Err stays nil;
//   - a pcap record with caplen over 256 KiB: Next stops and Err returns a *FileError with
//     the packet number and byte offset. Nothing after it is read, as no length can be
//     trusted to find the next record (tcpdump and Wireshark stop there too);
//   - pcapng: a block whose leading and trailing lengths disagree stops reading the same way;
//     a packet block that names an undeclared interface, overruns itself or holds more than
//     256 KiB is counted and skipped, and reading goes on (the block framing still holds);
//   - a packet captured shorter than its IP or UDP header says (snap length): counted as
//     "cut by snaplen" and skipped, never returned as a partial datagram, when it could have
//     been an export (UDP to or from a collector's port or beginning like a NetFlow, IPFIX or
//     sFlow packet, a segment of an IPFIX stream, a tunnel); the capture's other traffic cut
//     short is other traffic ("tcp", "udp", ...), not damage (TestSnapLengthOtherTraffic).
//
// # Limits
//
// A packet may hold at most 256 KiB (Wireshark's limit too), a pcapng section header or
// interface description 320 KiB; other pcapng blocks (statistics, name resolution, secrets,
// custom) are skipped unread, whatever their size. Each Reader buffers 320 KiB (twice that
// for gzip). Fragment reassembly keeps at most 256 incomplete datagrams and 4 MiB of their
// bytes (the oldest goes first), drops a datagram whose first fragment is more than 30 s of
// capture time older than the newest packet, and takes at most 64 fragments per datagram;
// overlapping fragments drop their whole datagram.
//
// # Ports
//
// Without FilterPorts every UDP datagram is returned: NetFlow is often exported to
// non-default ports, so callers should rather let the decoders recognise the payload.
package pcap
