// Package ingest takes evidence files into the case store: it finds the
// files, tells their format by content, decodes them and registers each
// as a source. Decoders live in the subpackages (jsonflow, netflow, pcap).
package ingest

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/flowcase/flowcase/index"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// expand turns the command line's paths into files: directories are walked
// recursively (in name order), "-" is standard input. The directory skip
// (the case store, when it lies among the evidence) is not walked.
//
// In a walk, a symbolic link to a file is read as the file; a link to a
// directory is not followed (it could loop), nor is a named pipe, socket or
// device read (a pipe would wait for a writer), and a subdirectory that
// cannot be read is passed over: each is returned in skipped, with why, and
// the rest is ingested. A path named on the command line is read whatever
// it is (a pipe, as <(zcat ...) makes, is read once, through a spool file).
func expand(paths []string, skip string) (files []string, skipped []FileResult, err error) {
	skipInfo, _ := os.Stat(skip)
	for _, p := range paths {
		if p == "-" {
			files = append(files, p)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read %s: %w", p, err)
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		pass := func(path, why string) {
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			skipped = append(skipped, FileResult{Path: path, Skipped: why})
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == p {
					return err
				}
				pass(path, "cannot read: "+errText(err))
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			switch t := d.Type(); {
			case d.IsDir():
				if skipInfo != nil {
					if info, err := d.Info(); err == nil && os.SameFile(info, skipInfo) {
						return filepath.SkipDir
					}
				}
			case strings.HasPrefix(d.Name(), ".flowcase-"): // spool's leftovers
			case t.IsRegular():
				found = append(found, path)
			case t&fs.ModeSymlink != 0:
				switch target, err := os.Stat(path); {
				case err != nil:
					pass(path, "symbolic link to nothing readable: "+errText(err))
				case target.Mode().IsRegular():
					found = append(found, path)
				case target.IsDir():
					pass(path, "symbolic link to a directory: not followed (name the directory to read it)")
				default:
					pass(path, "symbolic link to "+kindOf(target.Mode())+": not read")
				}
			default:
				pass(path, kindOf(t)+": not read (name it on the command line to read it)")
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("cannot walk %s: %w", p, err)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, skipped, nil
}

// kindOf names a file type that is not a regular file or directory.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// errText is an error's text without the path it repeats.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// hashFile returns a file's SHA-256 and size.
func hashFile(path string) ([32]byte, int64, error) {
	var sum [32]byte
	f, err := openEvidence(path)
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

// spool copies r to a temporary file in dir, so that it can be hashed
// before it is ingested like any other file (standard input, an archive's
// member). The caller removes it. When r fails part way, the file holds
// what was read and is returned with the error; so it is when the file
// system would keep less than spoolReserve free (a small archive can
// unpack to terabytes): the error then wraps index.ErrDiskFull.
func spool(dir string, r io.Reader, what string) (string, error) {
	f, err := os.CreateTemp(dir, ".flowcase-"+what+"-*")
	if err != nil {
		return "", err
	}
	bp := spoolBuffers.Get().(*[]byte)
	defer spoolBuffers.Put(bp)
	buf := *bp
	var written, room int64 // room: what may be written before free space is asked again
	reserve := spoolReserve(dir)
	for err == nil {
		var n int
		n, err = io.ReadFull(r, buf)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = nil
			if n == 0 {
				break
			}
		}
		if int64(n) > room {
			free, ok := spoolFree(dir)
			switch {
			case !ok:
				room = math.MaxInt64
			case free > reserve:
				room = min(int64(free-reserve), spoolCheck)
			default:
				room = 0
			}
			if int64(n) > room {
				n = int(room)
				err = fmt.Errorf("%w: stopped after %d MB, as the file system of %s had %d MB free and flowcase leaves %d MB of it free; "+
					"set TMPDIR to a directory with more room",
					index.ErrDiskFull, (written+int64(n))>>20, dir, free>>20, reserve>>20)
			}
		}
		if _, werr := f.Write(buf[:n]); werr != nil {
			err = werr
		}
		written += int64(n)
		room -= int64(n)
		if n < len(buf) && err == nil {
			break // the end of r
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return f.Name(), err
}

// spoolReserve is the free space spool leaves on the file system of dir:
// beside the case store (spoolDir without $TMPDIR), the store's own
// (index.MinFreeBytes: it stops writing there anyway); in $TMPDIR, which
// the investigator chose for it, tmpReserve. A reserve of 768 MB had
// refused a 1.5 KB member on a 700 MB $TMPDIR.
func spoolReserve(dir string) uint64 {
	if t := os.Getenv("TMPDIR"); t != "" && filepath.Clean(t) == filepath.Clean(dir) {
		return tmpReserve
	}
	return index.MinFreeBytes
}

// tmpReserve is what spool leaves free in $TMPDIR.
const tmpReserve = 64 << 20

// spoolCheck is how much spool writes before it asks the free space
// again, however much there was (other programs write too).
const spoolCheck = 64 << 20

// spoolBuffers holds spool's buffers: an archive of a million small
// members spools each.
var spoolBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// spoolFree is index.FreeBytes, replaced in tests.
var spoolFree = index.FreeBytes

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

// openContent opens a file, undoing its compression if its content says
// so (not its name): gzip, bzip2, xz or zstd, as evidence archives and
// rotated logs come. It returns a buffered reader positioned at the first
// byte of the (decompressed) content and the compression's name ("" for
// none).
func openContent(path string, read *int64) (*bufio.Reader, string, io.Closer, error) {
	return openContentHashed(path, read, nil)
}

// openContentHashed is openContent that also writes the decompressed
// bytes of a compressed file to content as they are read (not those of an
// uncompressed one: its content is the file).
func openContentHashed(path string, read *int64, content io.Writer) (*bufio.Reader, string, io.Closer, error) {
	f, err := openEvidence(path)
	if err != nil {
		return nil, "", nil, err
	}
	br := bufio.NewReaderSize(countingReader{f, read}, 1<<20)
	head, _ := br.Peek(6)
	name := compressionOf(head)
	if name == "" {
		br, name = utf16Text(br, name)
		return br, name, f, nil
	}
	zr, err := decompress(name, br)
	if err != nil {
		f.Close()
		return nil, name, nil, fmt.Errorf("cannot read %s header: %w", name, err)
	}
	closer := io.Closer(f)
	if c, ok := zr.(io.Closer); ok { // zstd's decoder holds goroutines until closed
		closer = closers{c, f}
	}
	if content != nil {
		zr = io.TeeReader(zr, content)
	}
	br, name = utf16Text(bufio.NewReaderSize(zr, 1<<20), name)
	return br, name, closer, nil
}

// utf16Text turns text in UTF-16 with a byte order mark (what Windows'
// PowerShell and Notepad write as "Unicode") into UTF-8 as it is read, and
// says so in the content's name ("utf16", after any compression's). Other
// content is returned as it is.
func utf16Text(br *bufio.Reader, name string) (*bufio.Reader, string) {
	bom, _ := br.Peek(2)
	if len(bom) < 2 || !(bom[0] == 0xFF && bom[1] == 0xFE || bom[0] == 0xFE && bom[1] == 0xFF) {
		return br, name
	}
	dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
	return bufio.NewReaderSize(transform.NewReader(br, dec), 1<<20), strings.TrimPrefix(name+"+utf16", "+")
}

// closers closes each in turn and returns the first error.
type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// compressionOf names the compression whose magic starts head.
func compressionOf(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "gzip"
	case len(head) >= 4 && bytes.HasPrefix(head, []byte("BZh")) && '1' <= head[3] && head[3] <= '9':
		return "bzip2"
	case bytes.HasPrefix(head, []byte{0xFD, '7', 'z', 'X', 'Z', 0}):
		return "xz"
	case bytes.HasPrefix(head, []byte{0x28, 0xB5, 0x2F, 0xFD}):
		return "zstd"
	}
	return ""
}

// maxWindow bounds the memory a zstd or xz stream may ask for (zstd
// --long=27 and xz -9 stay within it), so a hostile file cannot claim
// gigabytes.
const maxWindow = 1 << 27

// decompress returns a reader of the content compressed in r. Concatenated
// streams (pigz, pbzip2, pixz, zstd -T0) are read one after the other.
func decompress(name string, r io.Reader) (io.Reader, error) {
	switch name {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		zr.Multistream(true)
		return zr, nil
	case "bzip2":
		return bzip2.NewReader(r), nil
	case "xz":
		// The decoder allocates the larger of DictCap and the stream's own
		// dictionary: DictCap is a floor, not a cap (128 MiB had been
		// allocated for every xz file). The stream's is checked first.
		if br, ok := r.(*bufio.Reader); ok {
			if err := checkXZDict(br); err != nil {
				return nil, err
			}
		}
		return xz.ReaderConfig{DictCap: 1 << 12}.NewReader(r)
	case "zstd":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxWindow),
			zstd.WithDecoderMaxMemory(1<<32))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("unknown compression %q", name)
}

// spoolDir is where spool writes: $TMPDIR when it is set, else beside the
// case store, which is on a disk with room for the case (a system's /tmp
// may be a small memory file system, and evidence members can be large).
func spoolDir(st *index.Store) string {
	if d := os.Getenv("TMPDIR"); d != "" {
		return d
	}
	return filepath.Dir(filepath.Clean(st.Dir()))
}
