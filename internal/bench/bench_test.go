package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunTiny runs the whole benchmark at a tiny size (20k flows, one run,
// no peers) with a freshly built flowcase binary, so the command cannot
// rot: every store is built and checked against the generator, every goal
// is stated, and --write keeps the rest of BENCHMARKS.md.
func TestRunTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("builds flowcase and runs the benchmark (about 10 s)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build flowcase with")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "flowcase")
	build := exec.Command(goBin, "build", "-o", bin, "github.com/flowcase/flowcase/cmd/flowcase")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	md := filepath.Join(dir, "BENCHMARKS.md")
	if err := os.WriteFile(md, []byte("# Benchmarks\n\nkept above\n\n<!-- bench:begin -->\nold\n<!-- bench:end -->\n\n## Kept below\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, log bytes.Buffer
	res, err := Run(context.Background(), Config{Flows: 20_000, Days: 7, Runs: 1, SkipPeers: true, Binary: bin,
		Out: filepath.Join(dir, "work"), Write: md, Command: "flowcase bench --flows 20000 --runs 1 --skip-peers", Stdout: &out, Log: &log})
	if err != nil {
		t.Fatalf("Run: %v\nlog:\n%s", err, log.String())
	}
	for _, c := range res.Checks {
		if !c.OK {
			t.Errorf("check failed: %s: %s", c.What, c.Detail)
		}
	}
	if len(res.Checks) < 20 {
		t.Errorf("%d checks, want every store checked", len(res.Checks))
	}
	if len(res.Goals) < 12 {
		t.Errorf("%d goals stated, want all of them:\n%s", len(res.Goals), out.String())
	}
	for _, key := range []string{"ingest.ndjson.rate", "ingest.v9.rate", "report.rate", "report.rss"} {
		if len(res.row(key).Samples) != 1 {
			t.Errorf("%s: %d samples, want 1", key, len(res.row(key).Samples))
		}
	}
	for _, label := range []string{"week", "hour", "small", "compacted"} {
		if res.sets[label] == nil || len(res.sets[label].HourCount.Warm) == 0 {
			t.Errorf("no one-hour queries on the %s store", label)
		}
	}
	if len(res.Detectors) != 7 {
		t.Errorf("%d detector figures, want 7", len(res.Detectors))
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "work")); len(entries) != 0 {
		t.Errorf("work directory not emptied: %d entries left", len(entries))
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"kept above", "## Kept below", "<!-- bench:begin -->\n## Latest results", "--skip-peers",
		"seed script: --skip-peers", "<!-- bench:end -->"} {
		if !strings.Contains(text, want) {
			t.Errorf("BENCHMARKS.md lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\nold\n") {
		t.Errorf("BENCHMARKS.md kept the old section:\n%s", text)
	}
}

func TestWriteBenchmarksNew(t *testing.T) {
	md := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	for range 2 {
		if err := writeBenchmarks(md, "## Latest results\n\nfigures\n"); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(md)
	if !strings.HasPrefix(string(b), "# Benchmarks") || strings.Count(string(b), "<!-- bench:begin -->") != 1 ||
		strings.Count(string(b), "figures") != 1 {
		t.Errorf("unexpected BENCHMARKS.md:\n%s", b)
	}
}

func TestParseNfdump(t *testing.T) {
	out := []byte(`Top 2 Src IP Addr ordered by bytes:
Date first seen                 Duration Proto       Src IP Addr    Flows(%)     Packets(%)       Bytes(%)         pps      bps   bpp
2026-03-02 02:00:00.000 519600.000 any     10.1.0.30        7( 0.0)  2916676(32.0) 3500000000(35.8)        5    53887  1199
2026-03-02 00:02:48.539 604698.464 any  fd00:0:0:1::     1817( 0.8)    15377( 0.2)    4880053( 0.0)        0       64   317

Summary: total flows: 227125, total bytes: 9784356185, total packets: 9123286, avg bps: 129423, avg pps: 15, avg bpp: 1072
`)
	es, exact, err := parseNfdumpTop(out)
	if err != nil || !exact || len(es) != 2 || es[0].Bytes != 3500000000 || es[1].Flows != 1817 || es[1].Addr.String() != "fd00:0:0:1::" {
		t.Errorf("parseNfdumpTop = %+v, %v, %v", es, exact, err)
	}
	scaled := bytes.ReplaceAll(out, []byte("3500000000(35.8)"), []byte("3.5 G(35.8)"))
	if _, exact, err := parseNfdumpTop(scaled); err != nil || exact {
		t.Errorf("scaled output: exact %v, err %v", exact, err)
	}
	if n, err := parseNfdumpSummary(out); err != nil || n != 227125 {
		t.Errorf("parseNfdumpSummary = %d, %v", n, err)
	}
}
