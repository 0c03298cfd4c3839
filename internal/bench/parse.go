package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// parseFlowcaseTop reads the table of `flowcase query top`: KEY FLOWS
// BYTES PACKETS per line, then a total line.
func parseFlowcaseTop(out []byte) ([]topEntry, error) {
	var es []topEntry
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		flows, err1 := strconv.ParseUint(f[1], 10, 64)
		bytes, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("flowcase top: cannot read line %q", sc.Text())
		}
		es = append(es, topEntry{Addr: a, Flows: flows, Bytes: bytes})
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("flowcase top: no entries in %q", firstLines(out, 5))
	}
	return es, nil
}

var nfPercent = regexp.MustCompile(`\(\s*[0-9.]+\)`)

// parseNfdumpTop reads `nfdump -s srcip/bytes` output: per line, the
// first field that is an address, then flows(%), packets(%), bytes(%).
// Numbers are exact with -N, else scaled (1.2 M): scaled ones come back
// with exact false and Bytes 0.
func parseNfdumpTop(out []byte) (es []topEntry, exact bool, err error) {
	exact = true
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Summary:") {
			break
		}
		f := strings.Fields(line)
		at := -1
		var a netip.Addr
		for i, s := range f {
			if p, err := netip.ParseAddr(s); err == nil {
				a, at = p, i
				break
			}
		}
		if at < 0 {
			continue
		}
		rest := strings.Fields(nfPercent.ReplaceAllString(strings.Join(f[at+1:], " "), " "))
		// Exact: flows packets bytes pps bps bpp; scaled values take two
		// fields ("1.2 M").
		if len(rest) != 6 {
			exact = false
			es = append(es, topEntry{Addr: a})
			continue
		}
		flows, err1 := strconv.ParseUint(rest[0], 10, 64)
		bytes, err2 := strconv.ParseUint(rest[2], 10, 64)
		if err1 != nil || err2 != nil {
			exact = false
			es = append(es, topEntry{Addr: a})
			continue
		}
		es = append(es, topEntry{Addr: a, Flows: flows, Bytes: bytes})
	}
	if len(es) == 0 {
		return nil, false, fmt.Errorf("nfdump top: no entries in %q", firstLines(out, 5))
	}
	return es, exact, nil
}

var nfSummary = regexp.MustCompile(`Summary: total flows: (\d+)`)

// parseNfdumpSummary returns the flows of nfdump's summary line.
func parseNfdumpSummary(out []byte) (int64, error) {
	m := nfSummary.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("nfdump: no summary line in %q", lastLines(out, 5))
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}

var nfStatFlows = regexp.MustCompile(`(?m)^Flows: (\d+)$`)

// parseNfdumpStat returns the flows of `nfdump -I`.
func parseNfdumpStat(out []byte) (int64, error) {
	m := nfStatFlows.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("nfdump -I: no Flows line in %q", firstLines(out, 5))
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}

// csvRows counts the data lines of CSV output (the header excluded).
func csvRows(out []byte) int64 {
	n := int64(bytes.Count(out, []byte{'\n'}))
	if len(out) > 0 && out[len(out)-1] != '\n' {
		n++
	}
	return max(n-1, 0)
}

// countFlows reads `query count --format json`.
func countFlows(out []byte) (int64, error) {
	var c struct {
		Flows *int64 `json:"flows"`
	}
	if err := json.Unmarshal(out, &c); err != nil || c.Flows == nil {
		return 0, fmt.Errorf("query count: %q: %v", out, err)
	}
	return *c.Flows, nil
}

// storeInfo is what the benchmark reads of `flowcase info --format json`.
type storeInfo struct {
	Flows        int64             `json:"flows"`
	Partitions   int               `json:"partitions"`
	Segments     int               `json:"segments"`
	BytesOnDisk  int64             `json:"bytes_on_disk"`
	DataPerFlow  float64           `json:"data_bytes_per_flow"`
	IndexPerFlow float64           `json:"index_bytes_per_flow"`
	IndexByField map[string]uint64 `json:"index_bytes_by_field"`
}

func firstLines(b []byte, n int) string {
	lines := strings.SplitN(string(b), "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
