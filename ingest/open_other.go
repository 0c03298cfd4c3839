//go:build !linux

package ingest

import "os"

// openEvidence opens an evidence file for reading (see open_linux.go).
func openEvidence(path string) (*os.File, error) { return os.Open(path) }
