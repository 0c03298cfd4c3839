package main

import (
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/pbnjay/memory"
)

// The soft memory limit is memoryShare of the machine's memory (or of a
// lower cgroup limit) unless the user set GOMEMLIMIT or AUTOMEMLIMIT=off.
func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	total := memory.TotalMemory()
	for _, v := range []string{"GOMEMLIMIT", "AUTOMEMLIMIT"} {
		t.Setenv(v, "") // restored after the test
		os.Unsetenv(v)
	}
	got := setMemoryLimit()
	if got <= 0 || got > int64(float64(total)*memoryShare)+1 || got != debug.SetMemoryLimit(-1) {
		t.Errorf("got limit %d, runtime %d; want at most %.0f (%.1f of %d)", got, debug.SetMemoryLimit(-1),
			float64(total)*memoryShare, memoryShare, total)
	}
	// The runtime reads GOMEMLIMIT at start; Set leaves the limit alone.
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(1 << 30)
	if got := setMemoryLimit(); got != 1<<30 {
		t.Errorf("GOMEMLIMIT=1GiB: got limit %d, want %d", got, 1<<30)
	}
	os.Unsetenv("GOMEMLIMIT")
	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("AUTOMEMLIMIT", "off")
	if got := setMemoryLimit(); got != math.MaxInt64 {
		t.Errorf("AUTOMEMLIMIT=off: got limit %d, want none", got)
	}
}
