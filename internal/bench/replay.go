package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowcase/flowcase/ingest/pcap"
)

// udpSocket is a UDP socket's line of /proc/net/udp: what waits in its
// receive queue and what the kernel dropped for it.
type udpSocket struct {
	RxQueue uint64
	Drops   uint64
}

// readUDPSocket finds the socket bound to 127.0.0.1:port in /proc/net/udp.
func readUDPSocket(port uint16) (udpSocket, bool, error) {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return udpSocket{}, false, err
	}
	want := fmt.Sprintf("0100007F:%04X", port)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 13 || f[1] != want {
			continue
		}
		var s udpSocket
		q := strings.SplitN(f[4], ":", 2)
		if len(q) == 2 {
			s.RxQueue, _ = strconv.ParseUint(q[1], 16, 64)
		}
		s.Drops, _ = strconv.ParseUint(f[len(f)-1], 10, 64)
		return s, true, nil
	}
	return udpSocket{}, false, nil
}

// waitBound waits until something listens on 127.0.0.1:port (UDP).
func waitBound(port uint16, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, ok, err := readUDPSocket(port)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on 127.0.0.1:%d after %s", port, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeUDPPort asks the kernel for a free loopback UDP port.
func freeUDPPort() (uint16, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
}

// replayStats says what a replay sent and what the receiver lost.
type replayStats struct {
	Datagrams int
	Bytes     int64
	Drops     uint64 // kernel drops on the receiving socket during the replay
	Elapsed   time.Duration
	Waits     int // times the sender waited for the receiver to catch up
}

// replayCapture sends the UDP payloads of a capture, in capture order, to
// 127.0.0.1:port, paced by the receiver: whenever the receiving socket's
// queue holds more than highWater bytes, the sender waits for it to drain,
// so a slower receiver drops nothing. It returns once the queue is empty.
func replayCapture(path string, port uint16, highWater uint64) (replayStats, error) {
	var st replayStats
	f, err := os.Open(path)
	if err != nil {
		return st, err
	}
	defer f.Close()
	rd, err := pcap.NewReader(bufio.NewReaderSize(f, 1<<20), pcap.FormatAuto)
	if err != nil {
		return st, err
	}
	conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), port)))
	if err != nil {
		return st, err
	}
	defer conn.Close()
	sock, ok, err := readUDPSocket(port)
	if err != nil || !ok {
		return st, fmt.Errorf("no receiver on 127.0.0.1:%d (%v)", port, err)
	}
	drops0 := sock.Drops
	begin := time.Now()
	wait := func(limit uint64) error {
		for {
			s, ok, err := readUDPSocket(port)
			if err != nil || !ok {
				return fmt.Errorf("the receiver on 127.0.0.1:%d went away (%v)", port, err)
			}
			if s.RxQueue <= limit {
				return nil
			}
			st.Waits++
			time.Sleep(200 * time.Microsecond)
		}
	}
	for {
		dg, ok := rd.Next()
		if !ok {
			break
		}
		if _, err := conn.Write(dg.Payload); err != nil {
			return st, fmt.Errorf("cannot send datagram %d: %w", st.Datagrams+1, err)
		}
		st.Datagrams++
		st.Bytes += int64(len(dg.Payload))
		if st.Datagrams%16 == 0 {
			if err := wait(highWater); err != nil {
				return st, err
			}
		}
	}
	if err := rd.Err(); err != nil {
		return st, err
	}
	if err := wait(0); err != nil {
		return st, err
	}
	st.Elapsed = time.Since(begin)
	sock, _, err = readUDPSocket(port)
	if err != nil {
		return st, err
	}
	st.Drops = sock.Drops - drops0
	return st, nil
}
