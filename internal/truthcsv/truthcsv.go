// Package truthcsv reads the ground truth of the test fixtures: CSV files
// of tshark's decoding (testdata/*/truth.py, ../shared/captures/truth), a
// header row naming the columns, then one row per record. Tests only.
package truthcsv

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Read returns the rows of the CSV file at path, each a map from column
// name to value (none for a capture without records). A file without a
// header is an error.
func Read(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty, want a header row", path)
	}
	out := make([]map[string]string, 0, len(rows)-1)
	for _, r := range rows[1:] {
		m := make(map[string]string, len(rows[0]))
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out, nil
}

// Flows keeps the rows whose kind is "flow" (not options records).
func Flows(rows []map[string]string) []map[string]string {
	var out []map[string]string
	for _, r := range rows {
		if r["kind"] == "flow" {
			out = append(out, r)
		}
	}
	return out
}

// CapturesDir returns the shared real captures with their ground truth
// (../shared/captures: not part of the project; FLOWCASE_CAPTURES names
// another place), or skips the test when they are not on this machine.
func CapturesDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FLOWCASE_CAPTURES")
	if dir == "" {
		dir = "/work/shared/captures"
	}
	if _, err := os.Stat(filepath.Join(dir, "TRUTH.md")); err != nil {
		t.Skipf("real captures not available at %s", dir)
	}
	return dir
}
