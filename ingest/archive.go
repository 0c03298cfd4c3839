package ingest

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

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

// ingestArchive ingests every regular member of the archive at p (named
// name) and returns a result per member; a damaged archive adds a result
// that names it and what was wrong, after the members read before.
func ingestArchive(st *index.Store, p, name, kind string, opt Options, depth int) []FileResult {
	if depth >= maxArchiveDepth {
		return []FileResult{{Path: name, Skipped: fmt.Sprintf("an archive nested more than %d deep", maxArchiveDepth)}}
	}
	var out []FileResult
	member := func(mname string, r io.Reader) {
		full := name + archiveSep + mname
		br := bufio.NewReaderSize(r, 64<<10)
		head, err := br.Peek(4096)
		switch {
		case mayBeEvidence(head) || (opt.Input != "" && opt.Input != InputAuto):
		case err != nil && err != io.EOF && err != bufio.ErrBufferFull:
			out = append(out, FileResult{Path: full, Err: fmt.Errorf("%s: cannot unpack: %w", full, err)})
			return
		default:
			out = append(out, FileResult{Path: full, Skipped: SkippedFormat})
			return
		}
		tmp, err := spool(spoolDir(st), br, "member")
		if tmp == "" {
			out = append(out, FileResult{Path: full, Err: fmt.Errorf("%s: cannot unpack: %w", full, err)})
			return
		}
		defer os.Remove(tmp)
		if k := archiveKind(tmp); k != "" && err == nil {
			out = append(out, ingestArchive(st, tmp, full, k, opt, depth+1)...)
			return
		}
		// A member damaged part way: what was unpacked is read, as the
		// valid records of a damaged file are.
		res := ingestPath(st, tmp, full, opt)
		if err != nil {
			res.Err = errors.Join(fmt.Errorf("%s: cannot unpack it whole (%d bytes read): %w", full, res.Size, err), res.Err)
		}
		out = append(out, res)
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
			return fmt.Errorf("zip member %s: %w", f.Name, err)
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
