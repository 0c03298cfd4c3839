//go:build unix

package index

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockDir locks the store's directory as Badger does (flock: shared for a
// read-only open, exclusive for a read-write one), so that the open guard
// (guardTables), which reads Badger's files before Badger takes its lock,
// never reads them while a writer changes them: it read tables mid-write
// and called a healthy store damaged. A reader keeps the lock while the
// store is open (Badger's shared lock goes with it); a writer gives it up
// just before Badger takes its own. It returns the release, or ErrInUse.
func lockDir(dir string, readOnly bool) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return func() {}, nil // what cannot be opened is said by the open itself
	}
	how := unix.LOCK_EX
	if readOnly {
		how = unix.LOCK_SH
	}
	switch err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); {
	case err == nil:
		return func() { f.Close() }, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		// Readers share the lock: when a shared one can be had, only
		// readers hold it.
		reader := !readOnly && unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) == nil
		f.Close()
		return nil, inUse(dir, !reader)
	}
	f.Close()
	return func() {}, nil // a file system without locks: Badger's own lock still keeps writers apart
}
