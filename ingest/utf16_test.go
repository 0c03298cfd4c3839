package ingest

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"
)

// TestUTF16Evidence: text saved in UTF-16 with a byte order mark, as
// Windows' PowerShell and Notepad write "Unicode", little- or big-endian
// and compressed or not, is read as its UTF-8; the format says utf16.
func TestUTF16Evidence(t *testing.T) {
	text := "src_ip,dst_ip,src_port,dst_port,protocol,bytes_in,timestamp\r\n" +
		"10.0.0.1,192.0.2.9,40000,443,tcp,100,2026-03-02T10:00:00Z\r\n10.0.0.2,192.0.2.9,40001,443,tcp,200,2026-03-02T10:00:01Z\r\n"
	encode := func(big bool) []byte {
		var b bytes.Buffer
		for _, u := range append([]uint16{0xFEFF}, utf16.Encode([]rune(text))...) {
			if big {
				b.Write([]byte{byte(u >> 8), byte(u)})
			} else {
				b.Write([]byte{byte(u), byte(u >> 8)})
			}
		}
		return b.Bytes()
	}
	dir := t.TempDir()
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	for _, c := range []struct {
		name   string
		data   []byte
		format string
	}{
		{"le.csv", encode(false), "csv+utf16"},
		{"be.csv", encode(true), "csv+utf16"},
		{"le.csv.gz", gz(encode(false)), "csv+gzip+utf16"},
	} {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		res := capIngest(t, capStore(t), path).Files[0]
		if res.Flows != 2 || res.Format != c.format || res.Err != nil {
			t.Errorf("%s: %d flows, format %q, %v; want 2, %q", c.name, res.Flows, res.Format, res.Err, c.format)
		}
	}
}
