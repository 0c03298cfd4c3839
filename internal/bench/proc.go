package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// proc is what one child process cost: wall time from start to exit, its
// CPU time (user + system) and its peak resident memory (rusage maxrss,
// of the child and the children it waited for).
type proc struct {
	Wall   time.Duration
	CPU    time.Duration
	MaxRSS int64 // bytes
	// Floor is this process's resident memory when it started the child:
	// MaxRSS cannot read lower (see resetPeak).
	Floor int64
	Out   []byte
}

// command is a child process to run.
type command struct {
	Dir     string   // working directory ("" = the bench's)
	Name    string   // executable
	Args    []string // arguments
	Capture bool     // keep standard output in proc.Out (else /dev/null)
	// OKCodes are exit codes other than 0 that still count as success.
	OKCodes []int
}

func (c command) String() string {
	parts := append([]string{c.Name}, c.Args...)
	for i, p := range parts {
		parts[i] = shellQuote(p)
	}
	return strings.Join(parts, " ")
}

// run starts the command, waits for it and measures it. Standard output
// goes to /dev/null unless captured; standard error is kept for error
// messages.
//
// Captured output goes to a temporary file, as `command > file` would, and
// is read back after the child exits. A pipe would need a goroutine of
// this process copying while the child runs, competing with it for the
// cores: 2-4 ms on a 20 ms query of two cores (session 10). Both sides of
// a comparison are captured the same way.
func run(ctx context.Context, c command) (proc, error) {
	var p proc
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Dir = c.Dir
	var sink *os.File
	var err error
	if c.Capture {
		sink, err = os.CreateTemp("", "flowcase-bench-out-")
		if err == nil {
			defer os.Remove(sink.Name())
		}
	} else {
		sink, err = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	if err != nil {
		return p, err
	}
	defer sink.Close()
	cmd.Stdout = sink
	var stderr tailBuffer
	cmd.Stderr = &stderr
	p.Floor = resetPeak()
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return p, fmt.Errorf("%s: %w", c, err)
	}
	err = cmd.Wait()
	p.Wall = time.Since(begin)
	if ps := cmd.ProcessState; ps != nil {
		p.CPU = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			p.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if c.Capture {
		_, serr := sink.Seek(0, io.SeekStart)
		if serr == nil {
			p.Out, serr = io.ReadAll(sink)
		}
		if serr != nil {
			return p, fmt.Errorf("%s: output: %w", c, serr)
		}
	}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			for _, code := range c.OKCodes {
				if ee.ExitCode() == code {
					return p, nil
				}
			}
		}
		return p, fmt.Errorf("%s: %w: %s", c, err, strings.TrimSpace(stderr.String()))
	}
	return p, nil
}

// resetPeak makes a child's peak memory its own, as far as it can, and
// returns the floor left under it. Go starts children with vfork (the
// child shares this process's memory until it executes its program), and
// at exec Linux carries the high-water mark of the memory left behind
// into the child's rusage maxrss (golang/go#32054): a child's MaxRSS is
// never below this process's peak. So before each child this process
// gives its free memory back to the system and resets its own peak to
// what it holds now (writing 5 to /proc/self/clear_refs, Linux 4.0+).
func resetPeak() int64 {
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	return selfHWM()
}

// selfHWM is this process's peak resident memory (VmHWM), in bytes.
func selfHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = append(t.b[:0], t.b[len(t.b)-4096:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

var _ io.Writer = (*tailBuffer)(nil)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.ContainsAny(s, " '\"$\\`!*?[]{}()<>|&;#~\t\n") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// run runs a child and keeps the highest memory floor seen under one.
func (b *bencher) run(c command) (proc, error) {
	p, err := run(b.ctx, c)
	b.res.MemFloor = max(b.res.MemFloor, p.Floor)
	return p, err
}
