package ingest

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// TestWalkSpecialFiles: in a walked directory, a symbolic link to a file is
// read as the file; a link to a directory (here a loop), a broken link and
// a named pipe are passed over, each saying why, and the run goes on. A
// named pipe given on the command line, as <(zcat ...) makes, is read once
// through a spool file.
func TestWalkSpecialFiles(t *testing.T) {
	base := t.TempDir()
	line := `{"timestamp":"2026-03-02T10:00:00Z","src_ip":"10.0.0.1","dst_ip":"192.0.2.9","src_port":40000,"dst_port":443,"protocol":"tcp","bytes_in":100}` + "\n"
	real := filepath.Join(base, "elsewhere.ndjson")
	if err := os.WriteFile(real, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "evidence")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ target, name string }{{real, "link.ndjson"}, {dir, "loop"}, {filepath.Join(base, "gone"), "broken"}} {
		if err := os.Symlink(l.target, filepath.Join(dir, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := capStore(t)
	sum := capIngest(t, st, dir)
	var read []string
	skipped := map[string]string{}
	for _, f := range sum.Files {
		if f.Skipped != "" {
			skipped[filepath.Base(f.Path)] = f.Skipped
		} else {
			read = append(read, filepath.Base(f.Path))
		}
	}
	want := map[string]string{
		"loop":   "symbolic link to a directory: not followed (name the directory to read it)",
		"broken": "symbolic link to nothing readable: no such file or directory",
		"fifo":   "a named pipe: not read (name it on the command line to read it)",
	}
	if !slices.Equal(read, []string{"link.ndjson"}) || sum.Flows != 1 || len(skipped) != len(want) {
		t.Errorf("read %v (%d flows), skipped %v; want the link's one flow", read, sum.Flows, skipped)
	}
	for name, why := range want {
		if skipped[name] != why {
			t.Errorf("%s: skipped %q, want %q", name, skipped[name], why)
		}
	}

	// A pipe named on the command line.
	pipe := filepath.Join(base, "pipe")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	go func() {
		if f, err := os.OpenFile(pipe, os.O_WRONLY, 0); err == nil {
			f.WriteString(line + `{"timestamp":"2026-03-02T10:00:05Z","src_ip":"10.0.0.2","dst_ip":"192.0.2.9","protocol":"udp"}` + "\n")
			f.Close()
		}
	}()
	res := capIngest(t, capStore(t), pipe).Files[0]
	if res.Flows != 2 || res.Format != "ndjson" || res.Path != pipe {
		t.Errorf("pipe: %d flows, format %q, path %s; want 2, ndjson, %s (%v)", res.Flows, res.Format, res.Path, pipe, res.Err)
	}
}
