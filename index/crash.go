package index

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Crash points: named places in the write path where the crash tests kill
// the process (kill -9, for real) to prove that nothing is lost or doubled.
// They are armed only by the environment variable FLOWCASE_TEST_CRASH,
// "point" or "point:N" (the N-th time the point is passed, default 1).
const (
	CrashBetweenBlocks  = "between-blocks"
	CrashBeforeManifest = "before-manifest"
	CrashBeforeComplete = "before-complete"
	CrashBeforeLast     = "before-last-segment" // all other segments written
)

var crash struct {
	once  sync.Once
	point string
	nth   int
	mu    sync.Mutex
	seen  int
}

func crashPoint(name string) {
	crash.once.Do(func() {
		v := os.Getenv("FLOWCASE_TEST_CRASH")
		if v == "" {
			return
		}
		p, n, _ := strings.Cut(v, ":")
		crash.point, crash.nth = p, 1
		if k, err := strconv.Atoi(n); err == nil && k > 0 {
			crash.nth = k
		}
	})
	if crash.point != name {
		return
	}
	crash.mu.Lock()
	crash.seen++
	hit := crash.seen == crash.nth
	crash.mu.Unlock()
	if hit {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
