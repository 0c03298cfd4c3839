package jsonflow

import (
	"bufio"
	"errors"
	"io"

	"github.com/flowcase/flowcase/internal/flow"
)

// nextLine reads and decodes one NDJSON line. It returns false when the
// line was skipped (blank or rejected) or the input ended.
func (d *Reader) nextLine(rec *flow.Record) bool {
	pos := d.off
	line, err := d.br.ReadSlice('\n')
	d.off += int64(len(line))
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		d.line++
		d.skipLongLine()
		d.skip(ReasonLineTooLong, detailf("more than %d bytes", d.maxRecord), pos)
		return false
	case err != nil && (len(line) == 0 || !errors.Is(err, io.EOF)):
		d.stop(err) // a line cut by a read error is not decoded
		return false
	}
	d.line++
	if d.format == FormatCSV && d.cols.quoted {
		if q := (csvQuote{start: true, sep: d.cols.sep}); q.feed(line) && !q.bad {
			return d.csvQuoted(line, &q, rec, pos)
		}
	}
	content := trimSpace(line)
	switch {
	case len(content) == 0:
		return false
	case len(content) > d.maxRecord:
		d.skip(ReasonLineTooLong, detailf("%d bytes, more than %d", len(content), d.maxRecord), pos)
		return false
	}
	switch d.format {
	case FormatZeek, FormatW3C:
		return d.zeekLine(content, rec, pos)
	case FormatCSV:
		return d.csvLine(content, rec, pos)
	case FormatKV:
		return d.kvLineRecord(content, rec, pos)
	case FormatASA:
		return d.asaLineRecord(content, rec, pos)
	case FormatSquid:
		return d.squidLineRecord(content, rec, pos)
	case FormatSyslogJSON:
		if obj := syslogJSON(content); obj != nil {
			return d.decode(obj, rec, pos)
		}
		d.skip(ReasonMalformed, "no JSON object after a syslog header", pos)
		return false
	}
	return d.decode(content, rec, pos)
}

// skipLongLine discards the rest of a line that does not fit the buffer.
func (d *Reader) skipLongLine() {
	for {
		part, err := d.br.ReadSlice('\n')
		d.off += int64(len(part))
		if !errors.Is(err, bufio.ErrBufferFull) {
			if err != nil && !errors.Is(err, io.EOF) {
				d.stop(err)
			}
			return
		}
	}
}

// decode decodes one record, counting it as skipped when it is bad.
func (d *Reader) decode(b []byte, rec *flow.Record, pos int64) bool {
	reason, detail := d.dec.decode(b, rec)
	return d.keep(reason, detail, pos)
}

// keep reports whether a decoded record is good (reason ""), counting it
// at pos as skipped for reason when it is not.
func (d *Reader) keep(reason, detail string, pos int64) bool {
	if reason != "" {
		d.skip(reason, detail, pos)
		return false
	}
	return true
}
