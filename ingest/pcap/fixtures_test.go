package pcap

import (
	"fmt"
	"github.com/flowcase/flowcase/internal/truthcsv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

const fixturesDir = "../../testdata/softflowd"

// TestSoftflowdFixtures reads the committed softflowd exports (testdata/softflowd/README.md)
// and checks each datagram against the frames tshark decoded into the .csv beside it.
func TestSoftflowdFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixturesDir, "softflowd_*.pcap*"))
	var n int
	for _, path := range files {
		if filepath.Ext(path) == ".csv" {
			continue
		}
		n++
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res := readAll(t, b)
			want := csvFrames(t, path+".csv")
			// Every packet is an export datagram, but for IPFIX over TCP (handshake, ACKs).
			tcp := res.st.TCPSegments > 0
			if res.err != nil || len(res.dgs) != len(want) || (!tcp && res.st.Packets != uint64(len(want))) {
				t.Fatalf("got %d datagrams of %d packets, err %v; the csv has %d export packets", len(res.dgs), res.st.Packets, res.err, len(want))
			}
			ifaces := map[int]int{}
			for _, d := range res.dgs {
				w, ok := want[d.Number]
				version := 0
				if len(d.Payload) >= 2 {
					version = int(be.Uint16(d.Payload))
				}
				when := fmt.Sprintf("%d.%09d", d.Time/1e9, d.Time%1e9)
				if !ok || d.Src.String() != w.src || d.Dst.String() != w.dst || version != w.version || when != w.time {
					t.Errorf("#%d: got %v -> %v v%d at %d; csv: %+v", d.Number, d.Src, d.Dst, version, d.Time, w)
				}
				ifaces[d.Interface]++
			}
			if filepath.Ext(path) == ".pcapng" && filepath.Base(path) == "softflowd_v9_lo+any.pcapng" && (ifaces[0] != 5 || ifaces[1] != 5) {
				t.Errorf("got datagrams per interface %v, want 5 on lo (0) and 5 on any (1)", ifaces)
			}
			if tcp {
				return // the cross-checks below are of UDP datagrams; ingest's TestCaptureSoftflowd checks this file's records
			}
			crossCheckGopacket(t, b, res)
			if _, err := exec.LookPath("tshark"); err == nil {
				crossCheckTshark(t, path, res)
			}
		})
	}
	if n < 7 {
		t.Errorf("found %d fixtures in %s, want 7", n, fixturesDir)
	}
}

type csvFrame struct {
	src, dst, time string
	version        int
}

// csvFrames reads the frames (export packets) of a fixture's tshark csv.
func csvFrames(t *testing.T, path string) map[uint64]csvFrame {
	rows, err := truthcsv.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]csvFrame{}
	for _, r := range rows {
		n, _ := strconv.ParseUint(r["frame"], 10, 64)
		v, _ := strconv.Atoi(r["version"])
		out[n] = csvFrame{
			src:     r["exporter_ip"] + ":" + r["exporter_port"],
			dst:     r["exporter_ip"] + ":" + r["collector_port"],
			time:    r["frame_time_epoch"],
			version: v,
		}
	}
	return out
}
