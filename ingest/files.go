// Package ingest takes evidence files into the case store: it finds the
// files, tells their format by content, decodes them and registers each
// as a source. Decoders live in the subpackages (jsonflow, netflow, pcap).
package ingest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"github.com/klauspost/compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// expand turns the command line's paths into files: directories are walked
// recursively (in name order), "-" is standard input.
func expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, err)
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot walk %s: %w", p, err)
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// hashFile returns a file's SHA-256 and size.
func hashFile(path string) ([32]byte, int64, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return sum, 0, fmt.Errorf("cannot read %s: %w", path, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, n, nil
}

// spoolStdin copies standard input to a temporary file, so that it can be
// hashed before it is ingested like any other file. The caller removes it.
func spoolStdin(stdin io.Reader) (string, error) {
	f, err := os.CreateTemp("", "flowcase-stdin-*")
	if err != nil {
		return "", fmt.Errorf("cannot spool standard input: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(f, stdin); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("cannot spool standard input: %w", err)
	}
	return f.Name(), nil
}

// countingReader counts the bytes read through it (for the progress bar).
type countingReader struct {
	r io.Reader
	n *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// openContent opens a file, undoing gzip if its content says so (not its
// name), and returns a buffered reader positioned at the first byte of the
// (decompressed) content.
func openContent(path string, read *int64) (*bufio.Reader, bool, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, nil, err
	}
	br := bufio.NewReaderSize(countingReader{f, read}, 1<<20)
	head, _ := br.Peek(2)
	if !bytes.Equal(head, []byte{0x1f, 0x8b}) {
		return br, false, f, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		f.Close()
		return nil, true, nil, fmt.Errorf("cannot read gzip header: %w", err)
	}
	zr.Multistream(true)
	return bufio.NewReaderSize(zr, 1<<20), true, f, nil
}
