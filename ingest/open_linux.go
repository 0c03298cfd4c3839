package ingest

import (
	"errors"
	"os"
	"syscall"
)

// openEvidence opens an evidence file for reading without updating its
// access time (O_NOATIME), so that reading it leaves its timestamps as the
// investigator found them. Linux allows that only to the file's owner (or
// with CAP_FOWNER); otherwise the file is opened as usual.
func openEvidence(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOATIME, 0)
	if errors.Is(err, syscall.EPERM) {
		return os.Open(path)
	}
	return f, err
}
