package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as flowcase itself when the crash
// tests start it as a child process (to kill it with SIGKILL for real).
func TestMain(m *testing.M) {
	if os.Getenv("FLOWCASE_TEST_MAIN") == "1" {
		os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// flowcase runs the command in process and returns stdout, stderr and the
// exit code.
func flowcase(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"flowcase"}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := flowcase(t, args...)
	if code != 0 {
		t.Fatalf("flowcase %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

// writeNDJSON writes n deterministic flows over hours, returning the path.
func writeNDJSON(t *testing.T, dir, name string, n int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	var b strings.Builder
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range n {
		start := base.Add(time.Duration(rng.Int64N(int64(6 * time.Hour))))
		src := fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(256), rng.IntN(256))
		if i%7 == 0 {
			src = fmt.Sprintf("2001:db8::%x", rng.IntN(65536))
		}
		dst := fmt.Sprintf("192.0.2.%d", rng.IntN(256))
		if i%7 == 0 {
			dst = "2001:db8:1::1"
		}
		fmt.Fprintf(&b, `{"src_ip":%q,"dst_ip":%q,"src_port":%d,"dst_port":%d,"protocol":%d,"bytes_in":%d,"bytes_out":%d,"packets":%d,"tcp_flags":%d,"start":%q,"duration":%.3f}`+"\n",
			src, dst, 1024+rng.IntN(60000), []int{22, 53, 80, 443}[rng.IntN(4)], []int{6, 17}[rng.IntN(2)],
			rng.IntN(1e6), rng.IntN(1e6), 1+rng.IntN(100), rng.IntN(64), start.Format(time.RFC3339Nano), rng.Float64()*30)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sortedLines returns the lines of s, sorted.
func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	slices.Sort(lines)
	return lines
}

func TestFlagsAfterPositionals(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	f := writeNDJSON(t, dir, "a.ndjson", 50, 1)
	// Flags after the file, and the global --store after the command.
	if _, errs, code := flowcase(t, "ingest", f, "--store", store, "--quiet"); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errs)
	}
	out := mustRun(t, "query", "flows", "--format", "ndjson", "--store", store)
	if got := len(sortedLines(out)); got != 50 {
		t.Fatalf("got %d flows, want 50", got)
	}
	out2 := mustRun(t, "--store", store, "query", "flows", "--format=ndjson")
	if out2 != out {
		t.Fatal("--store before the command gives other output than after it")
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	bad := filepath.Join(dir, "bad.ndjson")
	os.WriteFile(bad, []byte(`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1772445600}
{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","dst_port":70000,"ts":1772445600}
not json at all
{"src_ip":"10.0.0.3","dst_ip":"10.0.0.4","ts":1772445601}
`), 0o644)
	_, errs, code := flowcase(t, "ingest", "--store", store, bad)
	if code != exitRejected {
		t.Fatalf("ingest with bad records: got exit %d, want %d\n%s", code, exitRejected, errs)
	}
	for _, want := range []string{"line 2: port out of range", "line 3: malformed json", "ingested 2 flows"} {
		if !strings.Contains(errs, want) {
			t.Errorf("ingest report lacks %q:\n%s", want, errs)
		}
	}
	if _, _, code := flowcase(t, "query", "flows", "--store", store, "--filter", "src ip"); code != exitUsage {
		t.Errorf("bad filter: got exit %d, want %d", code, exitUsage)
	}
	if _, _, code := flowcase(t, "query", "flows", "--store", store, "--nosuchflag"); code != exitUsage {
		t.Errorf("unknown flag: got exit %d, want %d", code, exitUsage)
	}
	for _, args := range [][]string{{"query", "top"}, {"query", "count"}, {"query", "timeline"}, {"query", "flows"}, {"query", "beacons"}, {"info"}} {
		_, errs, code := flowcase(t, append(args, "--store", store, "-f", "xml")...)
		if code != exitUsage || !strings.Contains(errs, `--format "xml": want table, json, ndjson or csv`) {
			t.Errorf("%v -f xml: got exit %d (%s), want %d and the formats", args, code, errs, exitUsage)
		}
	}
	if _, errs, code := flowcase(t, "query", "flows", "--store", filepath.Join(dir, "none")); code != exitFailed || !strings.Contains(errs, "no case store") {
		t.Errorf("missing store: got exit %d (%s), want %d and 'no case store'", code, errs, exitFailed)
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); err == nil {
		t.Error("querying a missing store created it")
	}
	notJSON := filepath.Join(dir, "notes.txt")
	os.WriteFile(notJSON, []byte("hello, these are notes\n"), 0o644)
	if _, errs, code := flowcase(t, "ingest", "--store", store, notJSON); code != exitOK || !strings.Contains(errs, "skipped 1 files not recognised") {
		t.Errorf("unrecognised file: got exit %d (%s), want 0 and a skip notice", code, errs)
	}
	if _, errs, code := flowcase(t, "ingest", "--store", store, "--input", "json", notJSON); code != exitFailed || !strings.Contains(errs, "not JSON") {
		t.Errorf("forced json on a text file: got exit %d (%s), want %d and 'not JSON'", code, errs, exitFailed)
	}
}

func TestDuplicateIngestChangesNothing(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	f := writeNDJSON(t, dir, "a.ndjson", 300, 2)
	mustRun(t, "ingest", "--store", store, f)
	before := mustRun(t, "query", "flows", "--store", store, "--format", "ndjson")
	info1 := mustRun(t, "info", "--store", store, "--format", "json")
	_, errs, code := flowcase(t, "ingest", "--store", store, f)
	if code != 0 || !strings.Contains(errs, "unchanged, already ingested") {
		t.Fatalf("second ingest: exit %d, %q", code, errs)
	}
	after := mustRun(t, "query", "flows", "--store", store, "--format", "ndjson")
	if before != after {
		t.Fatal("second ingest of the same bytes changed the flows")
	}
	info2 := mustRun(t, "info", "--store", store, "--format", "json")
	if strings.Count(info2, `"sha256"`) != 1 || strings.Count(info1, `"sha256"`) != 1 {
		t.Fatalf("want one source before and after:\n%s", info2)
	}
}

// TestRoundTrip: every field written by `query flows` (NDJSON, JSON, CSV)
// is read back by ingest into the same records.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "full.ndjson")
	os.WriteFile(in, []byte(`{"src_ip":"10.1.2.3","dst_ip":"198.51.100.9","src_port":40000,"dst_port":443,"protocol":6,"bytes_in":123456789012,"bytes_out":77,"packets":99,"packets_out":3,"tcp_flags":27,"start":"2026-03-02T10:00:00.123456789Z","end":"2026-03-02T10:05:00.5Z","icmp_type":0,"icmp_code":0,"in_if":7,"out_if":9,"src_as":64500,"dst_as":15169,"next_hop":"10.1.2.254","vlan":42,"exporter":"192.0.2.1","observation_domain":5,"sampling_interval":100,"post_bytes":5,"post_packets":1,"flow_direction":"egress","nat_src_ip":"203.0.113.5","nat_dst_ip":"198.51.100.10","nat_src_port":1234,"nat_dst_port":4443}
{"src_ip":"2001:db8::5","dst_ip":"2001:db8:ffff::1","src_port":0,"dst_port":0,"protocol":58,"bytes_in":64,"packets":1,"icmp_type":128,"icmp_code":0,"start":1772445600123,"next_hop":"fe80::1","exporter":"2001:db8::fe","observation_domain":1,"vlan":0}
`), 0o644)
	s1 := filepath.Join(dir, "one.db")
	mustRun(t, "ingest", "--store", s1, in)
	out1 := mustRun(t, "query", "flows", "--store", s1, "--format", "ndjson")
	if got := len(sortedLines(out1)); got != 2 {
		t.Fatalf("got %d flows, want 2:\n%s", got, out1)
	}
	for _, want := range []string{`"bytes_in":123456789012`, `"start":"2026-03-02T10:00:00.123456789Z"`, `"nat_dst_port":4443`,
		`"flow_direction":"egress"`, `"sampling_interval":100`, `"next_hop":"fe80::1"`, `"icmp_type":128`, `"start":"2026-03-02T10:00:00.123000000Z"`} {
		if !strings.Contains(out1, want) {
			t.Errorf("output lacks %s:\n%s", want, out1)
		}
	}
	again := filepath.Join(dir, "again.ndjson")
	os.WriteFile(again, []byte(out1), 0o644)
	s2 := filepath.Join(dir, "two.db")
	mustRun(t, "ingest", "--store", s2, again)
	out2 := mustRun(t, "query", "flows", "--store", s2, "--format", "ndjson")
	// Only the source (the file's SHA-256) differs.
	strip := func(s string) string {
		var b strings.Builder
		for _, l := range sortedLines(s) {
			i := strings.Index(l, `"source":`)
			b.WriteString(l[:i] + l[i+len(`"source":"`)+64+1:] + "\n")
		}
		return b.String()
	}
	if strip(out1) != strip(out2) {
		t.Fatalf("round trip changed records:\n%s\n%s", out1, out2)
	}
	// JSON array output reads back too.
	arr := mustRun(t, "query", "flows", "--store", s2, "--format", "json")
	os.WriteFile(filepath.Join(dir, "arr.json"), []byte(arr), 0o644)
	s3 := filepath.Join(dir, "three.db")
	mustRun(t, "ingest", "--store", s3, filepath.Join(dir, "arr.json"))
	if out3 := mustRun(t, "query", "flows", "--store", s3, "--format", "ndjson"); strip(out3) != strip(out1) {
		t.Fatalf("json array round trip changed records:\n%s", out3)
	}
	// And CSV.
	csv := mustRun(t, "query", "flows", "--store", s2, "--format", "csv")
	os.WriteFile(filepath.Join(dir, "flows.csv"), []byte(csv), 0o644)
	s4 := filepath.Join(dir, "four.db")
	mustRun(t, "ingest", "--store", s4, filepath.Join(dir, "flows.csv"))
	if out4 := mustRun(t, "query", "flows", "--store", s4, "--format", "ndjson"); strip(out4) != strip(out1) {
		t.Fatalf("csv round trip changed records:\n%s\n%s", out4, out1)
	}
}

// childIngest runs `flowcase ingest` as a child process, optionally armed
// to kill itself at a crash point.
func childIngest(t *testing.T, crash string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"ingest", "--quiet"}, args...)...)
	cmd.Env = append(os.Environ(), "FLOWCASE_TEST_MAIN=1")
	if crash != "" {
		cmd.Env = append(cmd.Env, "FLOWCASE_TEST_CRASH="+crash)
	}
	return cmd
}

func killedBySIGKILL(err error) bool {
	ee, ok := err.(*exec.ExitError)
	if !ok {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// TestKilledIngest kills a real ingest (SIGKILL) at each named point, then
// re-runs it and compares the exact set of rows: none lost, none twice.
func TestKilledIngest(t *testing.T) {
	dir := t.TempDir()
	a := writeNDJSON(t, dir, "a.ndjson", 3000, 10)
	b := writeNDJSON(t, dir, "b.ndjson", 21000, 11)
	want := expectedRows(t, dir, a, b)
	for _, point := range []string{"between-blocks:2", "before-manifest:1", "before-manifest:3", "before-last-segment:1", "before-complete:1"} {
		t.Run(point, func(t *testing.T) {
			store := filepath.Join(t.TempDir(), "s.db")
			mustRun(t, "ingest", "--store", store, "--quiet", "--partition", "1d", a)
			err := childIngest(t, point, "--store", store, "--segment-rows", "5000", b).Run()
			if !killedBySIGKILL(err) {
				t.Fatalf("child ingest: got %v, want killed by SIGKILL", err)
			}
			checkAfterCrash(t, store, b, want)
		})
	}
}

// TestKilledIngestRandom kills ingests at random times, up to and through
// the store's close (a kill while Close flushed its memtable left a table
// recover refused, and one while Badger deleted a log an empty log that
// no open got past: TestGuardFlushAtClose, TestGuardEmptyLog).
func TestKilledIngestRandom(t *testing.T) {
	dir := t.TempDir()
	a := writeNDJSON(t, dir, "a.ndjson", 2000, 20)
	b := writeNDJSON(t, dir, "b.ndjson", 60000, 21)
	want := expectedRows(t, dir, a, b)
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range 8 {
		store := filepath.Join(t.TempDir(), "s.db")
		mustRun(t, "ingest", "--store", store, "--quiet", a)
		cmd := childIngest(t, "", "--store", store, "--segment-rows", "7000", b)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(600)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		t.Logf("run %d: child ended with %v", i, err)
		checkAfterCrash(t, store, b, want)
	}
}

func expectedRows(t *testing.T, dir, a, b string) []string {
	ref := filepath.Join(dir, "ref.db")
	mustRun(t, "ingest", "--store", ref, "--quiet", a, b)
	return sortedLines(mustRun(t, "query", "flows", "--store", ref, "--format", "ndjson"))
}

func checkAfterCrash(t *testing.T, store, b string, want []string) {
	t.Helper()
	// A read-only query right after the crash either works or says to recover.
	if _, errs, code := flowcase(t, "query", "flows", "--store", store, "--format", "ndjson"); code != 0 &&
		!strings.Contains(errs, "flowcase recover") {
		t.Fatalf("query after crash: exit %d without a recover hint: %s", code, errs)
	}
	mustRun(t, "recover", "--store", store)
	mustRun(t, "ingest", "--store", store, "--quiet", b)
	got := sortedLines(mustRun(t, "query", "flows", "--store", store, "--format", "ndjson"))
	if len(got) != len(want) {
		t.Fatalf("after re-ingest: got %d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("after re-ingest: row %d differs:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

func TestStoreInUse(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	b := writeNDJSON(t, dir, "b.ndjson", 100000, 30)
	cmd := childIngest(t, "", "--store", store, b)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, errs, code := flowcase(t, "query", "flows", "--store", store)
		if code != 0 && strings.Contains(errs, fmt.Sprintf("store in use by a writer (ingest, compact or recover), pid %d", cmd.Process.Pid)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never saw 'store in use by a writer ..., pid %d'; last: exit %d %s", cmd.Process.Pid, code, errs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCompactKeepsEveryRow: many small files, compacted (also when killed
// mid-way), answer exactly as before with fewer segments.
func TestCompactKeepsEveryRow(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	var files []string
	for i := range 30 {
		files = append(files, writeNDJSON(t, dir, fmt.Sprintf("f%02d.ndjson", i), 300, uint64(100+i)))
	}
	mustRun(t, append([]string{"ingest", "--store", store, "--quiet", "--no-compact"}, files...)...)
	before := mustRun(t, "query", "flows", "--store", store, "--format", "ndjson")
	segs := func() string {
		out := mustRun(t, "info", "--store", store, "--format", "json")
		i := strings.Index(out, `"segments":`)
		return strings.TrimSpace(out[i+11 : i+11+strings.Index(out[i+11:], ",")])
	}
	segsBefore := segs()
	// A compaction killed before it completes changes nothing.
	cmd := exec.Command(os.Args[0], "compact", "--store", store)
	cmd.Env = append(os.Environ(), "FLOWCASE_TEST_MAIN=1", "FLOWCASE_TEST_CRASH=before-complete:2")
	if err := cmd.Run(); !killedBySIGKILL(err) {
		t.Fatalf("compact: got %v, want killed", err)
	}
	mustRun(t, "recover", "--store", store)
	if got := mustRun(t, "query", "flows", "--store", store, "--format", "ndjson"); got != before {
		t.Fatal("a killed compaction changed the flows")
	}
	mustRun(t, "compact", "--store", store)
	after := mustRun(t, "query", "flows", "--store", store, "--format", "ndjson")
	if after != before {
		t.Fatalf("compaction changed the flows: %d lines before, %d after", len(sortedLines(before)), len(sortedLines(after)))
	}
	if sa := segs(); sa == segsBefore {
		t.Fatalf("compaction left %s segments, as many as before", sa)
	} else {
		t.Logf("segments: %s before, %s after", segsBefore, sa)
	}
	if out := mustRun(t, "info", "--store", store, "--format", "json"); strings.Count(out, `"sha256"`) != 30 {
		t.Fatalf("want 30 sources listed (compactions apart):\n%s", out[:min(len(out), 2000)])
	}
}

// TestFrozenStores: stores written by earlier formats (testdata/store-v*)
// open read-only and list exactly the flows they were made with.
func TestFrozenStores(t *testing.T) {
	for _, v := range []string{"store-v1", "store-v2", "store-v3", "store-v4"} {
		t.Run(v, func(t *testing.T) {
			store := filepath.Join(t.TempDir(), "store")
			if err := os.CopyFS(store, os.DirFS(filepath.Join("../../testdata", v, "store"))); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("../../testdata", v, "flows.ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			got := mustRun(t, "query", "flows", "--store", store, "--format", "ndjson")
			if got != string(want) {
				t.Fatalf("the frozen store reads differently: %d lines, want %d", len(sortedLines(got)), len(sortedLines(string(want))))
			}
		})
	}
}

// TestQueryReadOnlyMedia: a store on a read-only file system (evidence on
// write-protected media) stays queryable. Needs a read-only bind mount:
// skipped where mounting is not allowed.
func TestQueryReadOnlyMedia(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	mustRun(t, "ingest", "--quiet", "--store", store, writeNDJSON(t, dir, "a.ndjson", 500, 40))
	want := mustRun(t, "query", "flows", "--store", store, "--format", "ndjson")
	mnt := filepath.Join(dir, "ro")
	os.Mkdir(mnt, 0o755)
	if err := exec.Command("mount", "--bind", store, mnt).Run(); err != nil {
		t.Skipf("cannot bind-mount here: %v", err)
	}
	defer exec.Command("umount", mnt).Run()
	if err := exec.Command("mount", "-o", "remount,ro,bind", mnt).Run(); err != nil {
		t.Skipf("cannot remount read-only here: %v", err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "probe"), nil, 0o644); err == nil {
		t.Skip("the mount is still writable")
	}
	if got := mustRun(t, "query", "flows", "--store", mnt, "--format", "ndjson"); got != want {
		t.Fatal("the read-only store answers differently")
	}
	mustRun(t, "info", "--store", mnt)
}

// Mistakes that ran on as if nothing were wrong: a filter given without
// --filter (the whole case answered), negative limits, compact on a
// mistyped store path (an empty store was made there).
func TestUsageMistakes(t *testing.T) {
	store := sampleStore(t)
	for _, args := range [][]string{
		{"query", "count", "--store", store, "host 10.1.0.66"},
		{"query", "flows", "--store", store, "host 10.1.0.66"},
		{"info", "--store", store, "extra"},
		{"query", "flows", "--store", store, "--limit", "-5"},
		{"query", "top", "--store", store, "-n", "0"},
	} {
		if _, stderr, code := flowcase(t, args...); code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d %q, want a usage error", args, code, stderr)
		}
	}
	// Said plainly: a flag of one value given twice (the first --filter
	// was dropped, 1536 flows for 'port 22' alone), an unknown command
	// (cli spoke of a help topic, or of the flag after it).
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"query", "count", "--store", store, "--filter", "host 10.1.3.7", "--filter", "port 22"}, "--filter given twice: it takes one value (join filters with 'and' in one --filter)"},
		{[]string{"query", "count", "--store", store, "--from", "2026-03-02", "--from=2026-03-03"}, "--from given twice"},
		{[]string{"query", "floww", "--store", store}, `unknown command "floww": the commands of flowcase query are flows, scans,`},
		{[]string{"querry", "report"}, `unknown command "querry": the commands of flowcase are ingest, info, query,`},
		{[]string{"query", "exfil", "--store", store, "--history", "3d"}, `--history "3d": the history rule needs at least 7 days`},
	} {
		if _, stderr, code := flowcase(t, c.args...); code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d %q, want a usage error saying %q", c.args, code, stderr, c.want)
		}
	}
	// A flag unknown where it stands is named, not its value as a command;
	// analyze takes the seed's flags twice as argparse did (the last).
	if _, stderr, code := flowcase(t, "query", "--store", store, "flows"); code != exitUsage || strings.Contains(stderr, "unknown command") || !strings.Contains(stderr, "store") {
		t.Errorf("query --store S flows: exit %d %q, want the flag named", code, stderr)
	}
	missing := filepath.Join(t.TempDir(), "none.json")
	if _, stderr, _ := flowcase(t, "analyze", "--flow-file", missing, "--output", "a.json", "--output", "b.json"); strings.Contains(stderr, "given twice") || !strings.Contains(stderr, "none.json") {
		t.Errorf("analyze with --output twice: %q, want the missing flow file named, not a repeated flag", stderr)
	}
	// "flowcase help [command]" (or h) is the command's --help.
	for _, args := range [][]string{{"help"}, {"h"}, {"help", "query", "flows"}, {"--store", store, "help", "ingest"}} {
		if out, stderr, code := flowcase(t, args...); code != 0 || !strings.Contains(out, "NAME:") {
			t.Errorf("%v: exit %d %q %q, want the help", args, code, out, stderr)
		}
	}
	typo := filepath.Join(t.TempDir(), "cse.db")
	if _, stderr, code := flowcase(t, "compact", "--store", typo); code != exitFailed || !strings.Contains(stderr, "no case store") {
		t.Errorf("compact of a missing store: exit %d %q, want 1 and 'no case store'", code, stderr)
	}
	if _, err := os.Stat(typo); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("compact of a missing store made %s: %v", typo, err)
	}
}

// File names with a newline or bytes that are not UTF-8 are registered
// quoted: two such files keep names of their own (an invalid byte was
// replaced, so both took one), and no name writes a line of its own into
// info's table.
func TestOddFileNames(t *testing.T) {
	dir := t.TempDir()
	rec := `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"bytes_in":%d}` + "\n"
	names := []string{"a\xff.ndjson", "a\xfe.ndjson", "b.ndjson\n7 complete 99999 0 pcap forged"}
	for i, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(fmt.Sprintf(rec, i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	store := filepath.Join(t.TempDir(), "s.db")
	mustRun(t, "ingest", "--quiet", "--store", store, dir)
	var info struct {
		Sources []struct{ Path string } `json:"sources"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "info", "--store", store, "--format", "json")), &info); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range info.Sources {
		seen[s.Path] = true
	}
	for _, n := range names {
		if want := strconv.Quote(filepath.Join(dir, n)); !seen[want] {
			t.Errorf("source %s not registered as %s: %v", n, want, info.Sources)
		}
	}
	if table := mustRun(t, "info", "--store", store); strings.Contains(table, "\n7 complete") {
		t.Errorf("a file name wrote a line of its own into info's table:\n%s", table)
	}
}

// The seed's flag prefixes are expanded for analyze alone: a store named
// "analyze" must not turn another command's --by into --byte-threshold.
func TestSeedPrefixesOnlyForAnalyze(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"flowcase", "query", "top", "--store", "analyze", "--by", "dstport"}, []string{"flowcase", "query", "top", "--store", "analyze", "--by", "dstport"}},
		{[]string{"flowcase", "--store", "s.db", "analyze", "--flow", "f.json", "--out=r.json"}, []string{"flowcase", "--store", "s.db", "analyze", "--flow-file", "f.json", "--output=r.json"}},
	} {
		if got := expandSeedPrefixes(c.in); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}
