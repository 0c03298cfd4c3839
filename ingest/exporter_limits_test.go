package ingest

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/netflow"
	"github.com/flowcase/flowcase/ingest/nfcapd"
	"github.com/flowcase/flowcase/internal/nfgen"
)

// limMessage is an IPFIX message of one domain holding sets.
func limMessage(domain, seq uint32, sets ...[]byte) []byte {
	be := binary.BigEndian
	body := slices.Concat(sets...)
	b := be.AppendUint16(nil, 10)
	b = be.AppendUint16(b, uint16(16+len(body)))
	b = be.AppendUint32(b, uint32(capBase/1e9))
	b = be.AppendUint32(b, seq)
	b = be.AppendUint32(b, domain)
	return append(b, body...)
}

func limSet(id uint16, body []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

// limTemplate defines template id with the fields (id, length) given.
func limTemplate(id uint16, fields ...uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, uint16(len(fields)/2))
	for _, f := range fields {
		b = binary.BigEndian.AppendUint16(b, f)
	}
	return b
}

// limFlowTemplate is sourceIPv4Address, destinationIPv4Address,
// flowStartSeconds, flowEndSeconds: records of 16 bytes.
var limFlowTemplate = []uint16{8, 4, 12, 4, 150, 4, 151, 4}

// limRecord is a data record of limFlowTemplate; n tells it apart.
func limRecord(n int) []byte {
	secs := uint32(capBase / 1e9)
	rec := []byte{10, byte(n >> 16), byte(n >> 8), byte(n), 10, 255, 0, 1}
	rec = binary.BigEndian.AppendUint32(rec, secs)
	return binary.BigEndian.AppendUint32(rec, secs+1)
}

func limWrite(t *testing.T, name string, src, dst netip.AddrPort, msgs [][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := nfgen.WriteFile(path, nfgen.Datagrams(src, dst, capBase, msgs...)); err != nil {
		t.Fatal(err)
	}
	return path
}

// limRows counts an extra's exporter rows of addr: real ones, and the
// Other one's.
func limRows(x captureExtra, addr string) (real int, other *exporterStats) {
	for i, e := range x.Exporters {
		switch {
		case e.Address != addr:
		case e.Other == otherDomains:
			other = &x.Exporters[i]
		case e.Other == "":
			real++
		}
	}
	return real, other
}

// An exporter sending from more observation domains than
// maxDomainsPerExporter keeps that many rows: the packets and flows of the
// others are counted in one row marked other, which info's table lists
// too; every flow is stored. Each domain had a row, and 1.2M domains took
// 4 GB and a source record over Badger's value limit: the commit failed
// and the file's flows were lost.
func TestExporterDomainsBounded(t *testing.T) {
	const extra, waitingDomains = 1000, 25
	n := maxDomainsPerExporter + extra
	src, dst := netip.MustParseAddrPort("192.0.2.7:4739"), netip.MustParseAddrPort("192.0.2.9:4739")
	var msgs [][]byte
	for i := range n {
		msgs = append(msgs, limMessage(uint32(1000+i), 0, limSet(2, limTemplate(256, limFlowTemplate...)), limSet(256, limRecord(i))))
	}
	// Data sets of domains whose template never comes: they wait, and the
	// notes say so in a few lines, not one a domain.
	for i := range waitingDomains {
		msgs = append(msgs, limMessage(uint32(900000+i), 0, limSet(300, limRecord(i))))
	}
	st := capStore(t)
	res := capIngest(t, st, limWrite(t, "domains.pcap", src, dst, msgs)).Files[0]
	if res.Err != nil || res.Flows != int64(n) || res.Parked != waitingDomains {
		t.Fatalf("got err %v, %d flows, %d parked; want %d flows, %d parked", res.Err, res.Flows, res.Parked, n, waitingDomains)
	}
	_, x := capSource(t, st, res)
	real, other := limRows(x, "192.0.2.7")
	if real != maxDomainsPerExporter || other == nil {
		t.Fatalf("got %d rows and other %+v; want %d rows and an other row", real, other, maxDomainsPerExporter)
	}
	// The first 4096 domains have rows; the last 1000 and the 25 waiting
	// ones are counted in the other row.
	if other.Packets != extra+waitingDomains || other.Flows != extra || other.Port != 0 || other.ObservationDomain != 0 || other.SequenceGaps != 0 {
		t.Errorf("other row %+v; want %d packets, %d flows, port and domain 0, no gaps", other, extra+waitingDomains, extra)
	}
	if e := exporterOf(t, x, "192.0.2.7", 1000, 10); e.Packets != 1 || e.Flows != 1 || e.Other != "" {
		t.Errorf("domain 1000: %+v, want 1 packet, 1 flow", e)
	}
	wantNote := "exporter 192.0.2.7 sent from more than 4096 observation domains"
	if !slices.ContainsFunc(res.Notes, func(s string) bool { return strings.HasPrefix(s, wantNote) }) {
		t.Errorf("notes %q lack %q", res.Notes, wantNote)
	}
	waitLines := 0
	for _, s := range res.Notes {
		if strings.Contains(s, "wait for template") || strings.Contains(s, "wait for 25 templates") || strings.HasPrefix(s, "and 15 more templates") {
			waitLines++
		}
	}
	if waitLines != maxWaitingNotes+2 || !slices.Contains(res.Notes, "25 data sets (500 bytes) wait for 25 templates of 25 domains of 1 exporters; the first 10:") {
		t.Errorf("got %d notes on waiting sets, want %d with a summary: %q", waitLines, maxWaitingNotes+2, res.Notes)
	}

	// info's table: the same rows, over the sources.
	infos, waits, err := Exporters(st)
	if err != nil {
		t.Fatal(err)
	}
	var rows, others int
	for _, e := range infos {
		if e.Address == "192.0.2.7" {
			rows++
			if e.Other == otherDomains {
				others++
				if e.Packets != extra+waitingDomains || e.Flows != extra {
					t.Errorf("info's other row %+v", e)
				}
			}
		}
	}
	if rows != maxDomainsPerExporter+1 || others != 1 || len(waits) != waitingDomains {
		t.Errorf("info: %d rows (%d other), %d waiting; want %d (1), %d", rows, others, len(waits), maxDomainsPerExporter+1, waitingDomains)
	}

	// A second file of new domains from the same address: info still
	// keeps one address's rows within the limit.
	var more [][]byte
	for i := range 50 {
		more = append(more, limMessage(uint32(2000000+i), 0, limSet(2, limTemplate(256, limFlowTemplate...)), limSet(256, limRecord(i))))
	}
	if r := capIngest(t, st, limWrite(t, "more.pcap", src, dst, more)).Files[0]; r.Flows != 50 {
		t.Fatalf("second file: %d flows, want 50", r.Flows)
	}
	infos, _, _ = Exporters(st)
	rows = 0
	for _, e := range infos {
		if e.Address == "192.0.2.7" {
			rows++
			if e.Other == otherDomains && (e.Packets != extra+waitingDomains+50 || e.Flows != extra+50) {
				t.Errorf("info's other row after the second file: %+v", e)
			}
		}
	}
	if rows != maxDomainsPerExporter+1 {
		t.Errorf("info after the second file: %d rows, want %d", rows, maxDomainsPerExporter+1)
	}
}

// sFlow sub-agent ids are the agent's choice as well: empty datagrams
// from a million sub-agents had made a row each, 3.1 GB, and a source
// record too large to commit, losing the capture's valid flows.
func TestSFlowSubAgentsBounded(t *testing.T) {
	const n = maxDomainsPerExporter + 500
	var msgs [][]byte
	for i := range n {
		b := binary.BigEndian.AppendUint32(nil, 5) // version
		b = binary.BigEndian.AppendUint32(b, 1)    // IPv4 agent
		b = append(b, 198, 51, 100, 1)
		b = binary.BigEndian.AppendUint32(b, uint32(i)) // sub-agent
		b = binary.BigEndian.AppendUint32(b, 1)         // sequence
		b = binary.BigEndian.AppendUint32(b, 1000)      // uptime
		b = binary.BigEndian.AppendUint32(b, 0)         // samples
		msgs = append(msgs, b)
	}
	st := capStore(t)
	path := limWrite(t, "sflow.pcap", netip.MustParseAddrPort("198.51.100.1:5000"), netip.MustParseAddrPort("192.0.2.9:6343"), msgs)
	res := capIngest(t, st, path).Files[0]
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	_, x := capSource(t, st, res)
	real, other := limRows(x, "198.51.100.1")
	if real != maxDomainsPerExporter || other == nil || other.Packets != 500 || other.Versions[0] != netflow.VersionSFlow5 {
		t.Errorf("got %d rows, other %+v; want %d rows and 500 packets in the other row", real, other, maxDomainsPerExporter)
	}
}

// nfdump's exporter records give a sysid any 32-bit domain: a file
// redefining one for each of 2M flows had made a row each, 2.7 GB and a
// source record of 374 MB the store refused, losing all 2M flows. The
// reader's count is folded as it grows, and the source keeps
// maxDomainsPerExporter rows of an address.
func TestNfcapdDomainsBounded(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")
	r := &nfcapd.Reader{Exporters: map[nfcapd.Exporter]uint64{}}
	var total uint64
	for i := range 3 * maxExporterEntries {
		r.Exporters[nfcapd.Exporter{Addr: a, Domain: uint32(i)}] = uint64(1 + i%3)
		total += uint64(1 + i%3)
		if len(r.Exporters) > 2*maxExporterEntries {
			foldNfcapdExporters(r.Exporters)
		}
	}
	for i := range 3 {
		r.Exporters[nfcapd.Exporter{Addr: b, Domain: uint32(i)}] = 7
		total += 7
	}
	if len(r.Exporters) > 2*maxExporterEntries {
		t.Fatalf("reader's map: %d rows", len(r.Exporters))
	}
	extra := map[string]any{}
	var fr FileResult
	if err := (nfcapdDecoder{r}).finish(nil, extra, &fr); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(extra["exporters"])
	var rows []exporterStats
	if err := json.Unmarshal(js, &rows); err != nil {
		t.Fatal(err)
	}
	var sum uint64
	var ofA, ofB, otherA int
	for _, e := range rows {
		sum += e.Flows
		switch {
		case e.Address == "10.0.0.1" && e.Other == otherDomains:
			otherA++
		case e.Address == "10.0.0.1":
			ofA++
			if e.Flows != 3 { // the largest are kept
				t.Errorf("kept row %+v, want one of 3 flows", e)
			}
		case e.Address == "2001:db8::1" && e.Flows == 7:
			ofB++
		}
	}
	if ofA != maxDomainsPerExporter || otherA != 1 || ofB != 3 || sum != total || len(rows) != maxDomainsPerExporter+4 {
		t.Errorf("got %d rows of 10.0.0.1 (+%d other), %d of 2001:db8::1, %d rows, %d flows; want %d (+1), 3, %d, %d",
			ofA, otherA, ofB, len(rows), sum, maxDomainsPerExporter, maxDomainsPerExporter+4, total)
	}
	if !slices.ContainsFunc(fr.Notes, func(s string) bool { return strings.HasPrefix(s, "exporter 10.0.0.1 sent from more than 4096") }) ||
		!slices.ContainsFunc(fr.Notes, func(s string) bool { return strings.Contains(s, "flows from 4099 exporters and more") }) {
		t.Errorf("notes %q", fr.Notes)
	}
}

// The template cache is kept in the store as one value: its size is
// bounded (netflow.DefaultMaxBytes), the templates beyond are rejected as
// the cache being full, and the file's flows are stored. Templates of 512
// fields had made a cache over Badger's 128 MiB value limit, and the
// commit failed with the file's flows.
func TestTemplateCacheBytesBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 13 MB capture")
	}
	const good, big = 100, 6500
	src, dst := netip.MustParseAddrPort("192.0.2.8:4739"), netip.MustParseAddrPort("192.0.2.9:4739")
	msgs := [][]byte{limMessage(1, 0, limSet(2, limTemplate(256, limFlowTemplate...)))}
	for i := range good {
		msgs = append(msgs, limMessage(1, uint32(i), limSet(256, limRecord(i))))
	}
	var fields []uint16
	for i := range netflow.MaxTemplateFields {
		fields = append(fields, uint16(1000+i), 1)
	}
	// One template of 512 fields a message, each in a domain of its own.
	for i := range big {
		msgs = append(msgs, limMessage(uint32(10+i/60000), 0, limSet(2, limTemplate(uint16(300+i%60000), fields...))))
	}
	st := capStore(t)
	res := capIngest(t, st, limWrite(t, "bigtemplates.pcap", src, dst, msgs)).Files[0]
	one := 1 + 4 + 2 + 4 + 2 + 2 + 1 + 2 + 2 + 8*netflow.MaxTemplateFields
	small := 1 + 4 + 2 + 4 + 2 + 2 + 1 + 2 + 2 + 8*4
	fit := (netflow.DefaultMaxBytes - small) / one
	full := netflow.ErrTooManyTemplates.Error()
	if res.Err != nil || res.Flows != good || res.Rejected[full] != int64(big-fit) {
		t.Fatalf("got err %v, %d flows, rejected %v; want %d flows, %d rejected as %q", res.Err, res.Flows, res.Rejected, good, big-fit, full)
	}
	cache, err := loadTemplates(st)
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := st.GetAux(index.AuxKey(auxTemplates, nil))
	if cache.Len() != fit+1 || len(v) > netflow.DefaultMaxBytes+12 || len(v) != cache.Size()+12 {
		t.Errorf("store's cache: %d templates, %d bytes (size %d); want %d, at most %d", cache.Len(), len(v), cache.Size(), fit+1, netflow.DefaultMaxBytes+12)
	}
}
