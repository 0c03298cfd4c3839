package ingest

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowcase/flowcase/index"
)

// Evidence often arrives bundled: a zip of a data set's CSV files, a tar
// of a collector's rotated nfcapd files or captures, compressed or not.
// Each regular member of an archive is ingested as a file of its own:
// copied to a temporary file (in spoolDir: $TMPDIR, else beside the store),
// so that it is hashed first, like any file, and a member already in the
// store is a duplicate however it came; then read and registered as
// "ARCHIVE!/MEMBER". A member whose first bytes
// cannot start evidence is skipped without being unpacked. Archives inside
// archives are opened too, down to maxArchiveDepth.

// maxArchiveDepth bounds archives within archives.
const maxArchiveDepth = 4

// archiveSep joins an archive's name and a member's.
const archiveSep = "!/"

// archiveKind tells an archive by its content: "zip", "tar" (after any
// compression openContent undoes), or "" for anything else.
func archiveKind(p string) string {
	var n int64
	br, _, c, err := openContent(p, &n)
	if err != nil {
		return ""
	}
	defer c.Close()
	head, _ := br.Peek(512)
	return archiveOf(head)
}

// archiveOf names the archive format whose magic head holds.
func archiveOf(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return "zip"
	case len(head) >= 262 && (bytes.Equal(head[257:262], []byte("ustar"))):
		return "tar"
	}
	return ""
}

// mayBeEvidence reports whether a file starting with head can be evidence
// (or a compressed file or an archive that may hold some), so that a member
// that cannot is skipped without being unpacked: a gigabyte of zeros in a
// small archive never reaches the disk.
func mayBeEvidence(head []byte) bool {
	return compressionOf(head) != "" || archiveOf(head) != "" || sniff(head) != ""
}

// An archive may hold a million members, or members named by PAX headers
// of a megabyte each: what is kept of its skipped members is bounded.
const (
	// maxMemberExamples is how many members skipped for one reason (not
	// evidence, already in the store, ...) an archive lists by name, and
	// how many failed members it lists with their errors; the others are
	// counted in one result per reason.
	maxMemberExamples = 10
	// maxMemberName bounds a member's name as flowcase registers and
	// shows it, in bytes.
	maxMemberName = 256
)

// moreMembers is the Skipped text of a result that counts the members
// skipped for one reason beyond those listed by name (MoreMembers).
const moreMembers = " more members: "

// MoreMembers reports, for a result that counts an archive's members
// skipped for one reason beyond the maxMemberExamples listed by name, how
// many it counts and the reason (SkippedFormat for members that are not
// evidence); n is 0 for any other result. Its Path is the archive's.
func MoreMembers(f FileResult) (n int, reason string) {
	count, reason, ok := strings.Cut(f.Skipped, moreMembers)
	if !ok {
		return 0, ""
	}
	n, err := strconv.Atoi(count)
	if err != nil || n <= 0 {
		return 0, ""
	}
	return n, reason
}

// memberName is a member's name bounded to about maxMemberName bytes:
// a longer one keeps its beginning and its end (the file's own name) and
// says how long it was, with a hash of the whole name, so that two names
// alike at both ends stay apart in the register.
func memberName(name string) string {
	if len(name) <= maxMemberName {
		return name
	}
	head, tail := name[:140], name[len(name)-80:]
	for len(head) > 0 && !utf8.RuneStart(name[len(head)]) {
		head = head[:len(head)-1]
	}
	for len(tail) > 0 && !utf8.RuneStart(tail[0]) {
		tail = tail[1:]
	}
	sum := sha256.Sum256([]byte(name))
	return fmt.Sprintf("%s…(%d bytes, %x)…%s", head, len(name), sum[:4], tail)
}

// memberResults collects the results of an archive's members: every
// member that was read, and of those skipped or failed, up to
// maxMemberExamples per reason; the rest are counted.
type memberResults struct {
	out    []FileResult
	count  map[string]int // members skipped or failed, by reason
	listed map[string]int // of them, those with a result in out
	order  []string       // the reasons, in the order first met
	dup    map[string]bool
}

// couldNotRead is the reason members that failed are counted under.
const couldNotRead = "could not be read"

func (m *memberResults) add(r FileResult) {
	reason, n := r.Skipped, 1
	switch more, why := MoreMembers(r); {
	case more > 0: // a nested archive's count
		reason, n = why, more
	case r.Err != nil && r.Format == "" && r.Flows == 0:
		reason = couldNotRead
	case r.Skipped == "" || len(r.Notes) > 0:
		m.out = append(m.out, r)
		return
	case r.Duplicate:
		reason = "already in the store"
	}
	if m.count == nil {
		m.count, m.listed, m.dup = map[string]int{}, map[string]int{}, map[string]bool{}
	}
	if _, ok := m.count[reason]; !ok {
		m.order = append(m.order, reason)
		m.dup[reason] = r.Duplicate
	}
	m.count[reason] += n
	if n == 1 && m.listed[reason] < maxMemberExamples {
		m.listed[reason]++
		m.out = append(m.out, r)
	}
}

// results returns the members' results, then one per reason that counts
// the members beyond those listed.
func (m *memberResults) results(archive string) []FileResult {
	for _, reason := range m.order {
		n := m.count[reason] - m.listed[reason]
		switch {
		case n <= 0:
		case reason == couldNotRead:
			m.out = append(m.out, FileResult{Path: archive,
				Err: fmt.Errorf("%s: %d more members could not be read (the first %d are listed)", archive, n, maxMemberExamples)})
		default:
			m.out = append(m.out, FileResult{Path: archive, Duplicate: m.dup[reason], Skipped: strconv.Itoa(n) + moreMembers + reason})
		}
	}
	return m.out
}

// ingestArchive ingests every regular member of the archive at p (named
// name) and returns a result per member read (and a bounded number per
// reason of those skipped: memberResults); a damaged archive adds a result
// that names it and what was wrong, after the members read before.
func ingestArchive(st *index.Store, p, name, kind string, opt Options, depth int) []FileResult {
	if depth >= maxArchiveDepth {
		return []FileResult{{Path: name, Skipped: fmt.Sprintf("an archive nested more than %d deep", maxArchiveDepth)}}
	}
	var res memberResults
	var br *bufio.Reader
	member := func(mname string, r io.Reader) {
		full := name + archiveSep + memberName(mname)
		if br == nil {
			br = bufio.NewReaderSize(r, 64<<10)
		} else {
			br.Reset(r)
		}
		head, err := br.Peek(sniffWindow)
		switch {
		case mayBeEvidence(head) || (opt.Input != "" && opt.Input != InputAuto):
		case err != nil && err != io.EOF && err != bufio.ErrBufferFull:
			res.add(FileResult{Path: full, Err: fmt.Errorf("%s: cannot unpack: %w", full, err)})
			return
		default:
			res.add(FileResult{Path: full, Skipped: SkippedFormat})
			return
		}
		tmp, err := spool(spoolDir(st), br, "member")
		if tmp == "" {
			res.add(FileResult{Path: full, Err: fmt.Errorf("%s: cannot unpack: %w", full, err)})
			return
		}
		defer os.Remove(tmp)
		if errors.Is(err, index.ErrDiskFull) {
			// Unpacking stopped before the disk ran short (spool): the
			// member is not read, as a file the store had no room for is
			// not kept. Read in part, it would be read whole by a run with
			// room, under another hash, and its first records would be in
			// the store twice.
			res.add(FileResult{Path: full, Err: fmt.Errorf("%s: not read, it could not be unpacked whole: %w", full, err)})
			return
		}
		if k := archiveKind(tmp); k != "" {
			// An archive damaged part way keeps the members before the
			// damage, as any archive.
			for _, r := range ingestArchive(st, tmp, full, k, opt, depth+1) {
				res.add(r)
			}
			if err != nil {
				res.add(FileResult{Path: full, Err: fmt.Errorf("%s: cannot unpack it whole: %w", full, err)})
			}
			return
		}
		// A member damaged part way: what was unpacked is read, as the
		// valid records of a damaged file are.
		fr := ingestPath(st, tmp, full, opt)
		if err != nil {
			fr.Err = errors.Join(fmt.Errorf("%s: cannot unpack it whole (%d bytes read): %w", full, fr.Size, err), fr.Err)
		}
		res.add(fr)
	}
	var err error
	if kind == "zip" {
		// A zip is read by its central directory, at its end: a
		// compressed one (a .zip.gz) is unpacked first.
		var zp string
		if zp, err = uncompressed(st, p); err == nil {
			if zp != p {
				defer os.Remove(zp)
			}
			err = zipMembers(zp, member)
		}
	} else {
		err = tarMembers(p, member)
	}
	out := res.results(name)
	if err != nil {
		out = append(out, FileResult{Path: name, Err: fmt.Errorf("%s: %w", name, err)})
	}
	if len(out) == 0 {
		out = append(out, FileResult{Path: name, Skipped: "an archive without files"})
	}
	return out
}

// uncompressed returns p, or a temporary copy of its content without the
// compression openContent undoes (the caller removes it).
func uncompressed(st *index.Store, p string) (string, error) {
	var n int64
	br, compression, c, err := openContent(p, &n)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if compression == "" {
		return p, nil
	}
	tmp, err := spool(spoolDir(st), br, "zip")
	if err != nil && tmp != "" {
		os.Remove(tmp)
	}
	return tmp, err
}

// zipMembers calls member with each regular file of the zip archive at p,
// in the archive's order.
func zipMembers(p string, member func(string, io.Reader)) error {
	fh, err := openEvidence(p)
	if err != nil {
		return err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(fh, fi.Size())
	if err != nil {
		return fmt.Errorf("cannot read zip archive: %w", err)
	}
	for _, f := range zr.File {
		if !f.Mode().IsRegular() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("zip member %s: %w", memberName(f.Name), err)
		}
		member(cleanMember(f.Name), rc)
		rc.Close()
	}
	return nil
}

// tarMembers calls member with each regular file of the tar archive at p
// (compressed or not), in the archive's order.
func tarMembers(p string, member func(string, io.Reader)) error {
	var n int64
	br, _, c, err := openContent(p, &n)
	if err != nil {
		return err
	}
	defer c.Close()
	tr := tar.NewReader(br)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cannot read tar archive after %d bytes: %w", n, err)
		}
		if h.Typeflag == tar.TypeReg {
			member(cleanMember(h.Name), tr)
		}
	}
}

// cleanMember is a member's name as flowcase shows it: slash-separated,
// without a leading "./" or "/".
func cleanMember(name string) string {
	return strings.TrimLeft(path.Clean("/"+strings.ReplaceAll(name, "\\", "/")), "/")
}
