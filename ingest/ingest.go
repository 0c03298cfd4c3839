package ingest

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flowcase/flowcase/index"
	"github.com/flowcase/flowcase/ingest/azureflow"
	"github.com/flowcase/flowcase/ingest/jsonflow"
	"github.com/flowcase/flowcase/ingest/meter"
	"github.com/flowcase/flowcase/ingest/nfcapd"
	"github.com/flowcase/flowcase/ingest/pcap"
	"github.com/flowcase/flowcase/internal/flow"
	"github.com/flowcase/flowcase/internal/jsonout"
)

// Input formats (--input).
const (
	InputAuto   = "auto"
	InputJSON   = "json"
	InputNDJSON = "ndjson"
	InputZeek   = "zeek"   // a Zeek TSV log (conn.log)
	InputCSV    = "csv"    // CSV under a header of field names (nfdump -o csv, query flows --format csv)
	InputAzure  = "azure"  // Azure NSG or VNet flow logs (a {"records": [...]} document)
	InputKV     = "kv"     // key=value lines (FortiGate's traffic logs)
	InputW3C    = "w3c"    // the W3C extended log format (Windows Firewall's pfirewall.log)
	InputASA    = "asa"    // Cisco ASA and FTD syslog
	InputSquid  = "squid"  // Squid's native access.log
	InputSyslog = "syslog" // JSON objects behind syslog headers
	InputPcap   = "pcap"
	InputPcapng = "pcapng"
	InputNfcapd = "nfcapd" // nfdump's binary flow files (nfcapd.YYYYMMDDhhmm), nfdump 1.7 and later
	InputIPFIX  = "ipfix"  // an IPFIX File (RFC 5655): IPFIX messages one after the other (YAF, ipfixcol2)
)

// Options control an ingest run.
type Options struct {
	Input      string         // InputAuto or a forced format
	InputTZ    *time.Location // zone for zone-less times in evidence; nil rejects them
	AssumeTime int64          // unix ns for records without any time; 0 rejects them
	Version    string         // flowcase version, recorded with each source
	Stdin      io.Reader      // for the path "-"
	// Progress, when set, is told how far each file has got.
	Progress func(file string, done, total int64)
	// RejectExamples is how many rejected records per file are kept with
	// their position for the error report (default 20).
	RejectExamples int
	// Port restricts capture decoding to UDP datagrams from or to this port.
	Port uint16
	// OutBytesReverse maps NetFlow OUT_BYTES/OUT_PKTS (23/24) to the reverse
	// direction (bytes_out), for exporters that use them so (nProbe).
	OutBytesReverse bool
	// Meter makes flows from the packets of traffic captures (a flow meter,
	// as softflowd would export them) instead of reading export packets in
	// them; MeterConfig sets its timeouts. JSON and CSV are read as always.
	Meter       bool
	MeterConfig meter.Config
	Now         func() time.Time
}

// FileResult is the outcome for one evidence file.
type FileResult struct {
	Path      string
	SHA256    string
	Size      int64
	Format    string // json, ndjson, pcap, ... (+gzip, +bzip2, +xz, +zstd); "" when not recognised
	Skipped   string // why the file was not ingested (not recognised, duplicate)
	Duplicate bool
	Flows     int64
	Rejected  map[string]int64
	Examples  []string // "line 12: port out of range: 70000"
	Assumed   int64
	Notes     []string // what the user should know (no exports in a capture, data waiting for templates)
	Parked    int      // its data sets left waiting for a template when it was done
	Err       error    // the file could not be (fully) read; what was read is kept
}

// Summary is the outcome of a run.
type Summary struct {
	Files    []FileResult
	Flows    int64
	Rejected int64
	Elapsed  time.Duration
	// Waiting is what waits in the store for a template after the run:
	// data sets of this run's files and of earlier ones.
	Waiting []Waiting
}

// Failed reports whether some file could not be read.
func (s *Summary) Failed() bool {
	for _, f := range s.Files {
		if f.Err != nil {
			return true
		}
	}
	return false
}

// Run ingests every file under paths into the store.
func Run(st *index.Store, paths []string, opt Options) (*Summary, error) {
	begin := time.Now()
	files, skipped, err := expand(paths, st.Dir())
	if err != nil {
		return nil, err
	}
	sum := &Summary{Files: skipped}
	for i := range sum.Files {
		sum.Files[i].Path = RecordedName(sum.Files[i].Path)
	}
	for _, path := range files {
		for _, res := range ingestAny(st, path, opt) {
			res.Path = RecordedName(res.Path)
			sum.Flows += res.Flows
			for _, n := range res.Rejected {
				sum.Rejected += n
			}
			sum.Files = append(sum.Files, res)
		}
	}
	if sum.Waiting, err = storedWaiting(st); err != nil {
		return nil, fmt.Errorf("cannot read the data sets waiting for templates: %w", err)
	}
	sum.Elapsed = time.Since(begin)
	return sum, nil
}

// ingestAny ingests one path of the command line: a file, an archive (each
// member a file of its own: archive.go) or "-", standard input.
func ingestAny(st *index.Store, path string, opt Options) []FileResult {
	name, what := path, "standard input"
	var once io.Reader // what can be read once only, and is spooled first
	if path == "-" {
		name, once = "(stdin)", opt.Stdin
		if once == nil {
			once = os.Stdin
		}
	} else {
		if abs, err := filepath.Abs(path); err == nil {
			name = abs
		}
		if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
			// A pipe (<(zcat ...)) or device named on the command line.
			f, err := os.Open(path)
			if err != nil {
				return []FileResult{{Path: name, Err: err}}
			}
			defer f.Close()
			once, what = f, name
		}
	}
	if once != nil {
		tmp, err := spool(spoolDir(st), once, "input")
		if tmp != "" {
			defer os.Remove(tmp)
		}
		if err != nil {
			return []FileResult{{Path: name, Err: fmt.Errorf("cannot spool %s: %w", what, err)}}
		}
		path = tmp
	}
	if kind := archiveKind(path); kind != "" {
		return ingestArchive(st, path, name, kind, opt, 0)
	}
	return []FileResult{ingestPath(st, path, name, opt)}
}

// RecordedName is how a file's path is registered and shown: as given when
// it is valid UTF-8 without control characters, else quoted as Go does
// ("a\nb.pcap", "a\xff.json"), so that the register tells every file
// apart (an invalid byte was replaced, and two files took one name) and
// no name can write a line of its own into a listing.
func RecordedName(p string) string {
	if utf8.ValidString(p) && !strings.ContainsFunc(p, unicode.IsControl) {
		return p
	}
	return strconv.Quote(p)
}

// ingestPath ingests the file at path, registered under name.
func ingestPath(st *index.Store, path, name string, opt Options) FileResult {
	name = RecordedName(name)
	res := FileResult{Path: name}
	sha, size, err := hashFile(path)
	if err != nil {
		res.Err = err
		return res
	}
	res.SHA256, res.Size = index.HashHex(sha), size
	key := sha
	if opt.Meter && isCapture(path) {
		key = meteredKey(sha)
	}
	if src, ok, err := st.SourceByHash(key); err != nil {
		res.Err = err
		return res
	} else if ok && (src.Flows > 0 || len(src.Rejected) == 0) {
		res.Duplicate = true
		res.Skipped = fmt.Sprintf("already ingested as source %d (%s, %d flows)", src.ID, src.Path, src.Flows)
		return res
	} else if ok {
		// Every record was rejected (times without a zone, no time, ...):
		// nothing of it is in the store, so it may be read again, with
		// the options that were missing. The new source takes its hash.
		res.Notes = append(res.Notes, fmt.Sprintf("source %d of the same file gave no flows (every record rejected): read again", src.ID))
	}
	ingestFile(st, path, name, sha, key, &res, opt)
	return res
}

// jsonFormats are the inputs package jsonflow reads, and its formats.
var jsonFormats = map[string]jsonflow.Format{
	InputJSON: jsonflow.FormatArray, InputNDJSON: jsonflow.FormatNDJSON, InputZeek: jsonflow.FormatZeek, InputCSV: jsonflow.FormatCSV,
	InputKV: jsonflow.FormatKV, InputW3C: jsonflow.FormatW3C, InputASA: jsonflow.FormatASA, InputSquid: jsonflow.FormatSquid,
	InputSyslog: jsonflow.FormatSyslogJSON,
}

// jsonDecoder reads JSON, CSV and Zeek logs, and says which of their
// records were not flows (Suricata's other events).
type jsonDecoder struct{ *jsonflow.Reader }

func (d jsonDecoder) finish(_ *index.SourceResult, extra map[string]any, fr *FileResult) error {
	if w := d.Wrapped(); w != "" {
		extra["wrapped_in"] = w
		fr.Notes = append(fr.Notes, fmt.Sprintf("flows read from the array %q of a wrapping JSON document (the rest of it is not flows)", w))
	}
	if n := d.Rejects()[jsonflow.ReasonNoZone]; n > 0 {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d records have times without a zone (the device's local time): give --input-tz and the zone it logged in (Europe/Berlin, America/New_York, UTC, ...); a file whose every record was rejected can be ingested again", n))
	}
	if n := d.Swapped(); n > 0 {
		extra["times_swapped"] = n
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d records gave their end before their start and a duration of about 2^64 ms less the span (nfdump 1.7 writes softflowd's IPFIX records so): kept with start and end swapped", n))
	}
	if ig := d.Ignored(); len(ig) > 0 {
		extra["values_ignored"] = ig
		names := slices.Sorted(maps.Keys(ig))
		parts := make([]string, len(names))
		for i, k := range names {
			parts[i] = fmt.Sprintf("%s %d", k, ig[k])
		}
		fr.Notes = append(fr.Notes, "values that could not be read were passed over, their records kept (optional fields): "+strings.Join(parts, ", "))
	}
	if d.NoCounters() {
		extra["no_counters"] = true
		fr.Notes = append(fr.Notes, "its header names no byte or packet column flowcase reads: every flow's bytes and packets are 0, and the detectors that weigh them see nothing")
	}
	if n := d.UntypedICMP(); n > 0 {
		extra["icmp_untyped"] = n
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d ICMP records carry no type (nor one in their ports): read as echo requests, so each one's source is the side that sent it", n))
	}
	nf := d.NotFlows()
	if len(nf) == 0 {
		return nil
	}
	kinds := slices.Sorted(maps.Keys(nf))
	parts := make([]string, len(kinds))
	total := 0
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", nf[k], k)
		total += nf[k]
	}
	extra["not_flows"] = nf
	fr.Notes = append(fr.Notes, fmt.Sprintf("%d records are not flows and were passed over: %s", total, strings.Join(parts, ", ")))
	return nil
}

// azureDecoder reads an Azure flow log document and says what it held.
type azureDecoder struct{ *azureflow.Reader }

func (d azureDecoder) finish(_ *index.SourceResult, extra map[string]any, fr *FileResult) error {
	extra["azure"] = map[string]int{"records": d.Records, "nsg_tuples": d.NSG, "vnet_tuples": d.VNet}
	fr.Examples = append(fr.Examples, d.Examples()...)
	fr.Notes = append(fr.Notes, fmt.Sprintf("Azure flow log: %d records, %d NSG and %d VNet flow tuples, each a flow record of its state change", d.Records, d.NSG, d.VNet))
	return nil
}

// SkippedFormat is FileResult.Skipped of a file that is not evidence.
const SkippedFormat = "format not recognised"

// decoder is what each evidence format provides: records one at a time.
type decoder interface {
	Next(*flow.Record) bool
	Err() error
	Rejects() map[string]int
	Assumed() int
}

// finisher is a decoder that keeps more with its source than its records
// and rejects (statistics, notes for the user).
type finisher interface {
	finish(res *index.SourceResult, extra map[string]any, fr *FileResult) error
}

func ingestFile(st *index.Store, path, name string, sha, key [32]byte, res *FileResult, opt Options) {
	var read int64
	content := newAsyncHash(sha256.New())
	defer content.Close()
	br, compression, closer, err := openContentHashed(path, &read, content)
	if err != nil {
		res.Err = fmt.Errorf("%s: %w", name, err)
		return
	}
	defer closer.Close()
	format, dec, err := newDecoder(st, br, name, res, opt)
	if err != nil {
		res.Err = err
		return
	}
	if dec == nil {
		res.Skipped = SkippedFormat
		return
	}
	res.Format = format
	if compression != "" {
		res.Format += "+" + compression
	}
	w, err := st.BeginSource(index.SourceInfo{SHA256: sha, Key: key, Path: name, Size: res.Size, Format: res.Format, Version: opt.Version})
	if err != nil {
		res.Err = err
		return
	}
	cd, _ := dec.(*captureDecoder)
	if err := copyRecords(w, dec, cd, name, &read, res, opt); err != nil {
		w.Abort()
		res.Err = err
		return
	}
	if err := dec.Err(); err != nil {
		// What was read stays: valid records of a damaged file are kept.
		res.Err = fmt.Errorf("%s: %w", name, err)
	}
	res.Rejected = map[string]int64{}
	for k, v := range dec.Rejects() {
		res.Rejected[k] = int64(v)
	}
	res.Assumed = int64(dec.Assumed())
	result := index.SourceResult{Rejected: res.Rejected, AssumedTime: res.Assumed}
	extra := map[string]any{"examples": res.Examples}
	if f, ok := dec.(finisher); ok {
		if err := f.finish(&result, extra, res); err != nil {
			w.Abort()
			res.Err = fmt.Errorf("%s: %w", name, err)
			return
		}
	}
	result.Extra, _ = jsonout.Marshal(extra)
	if compression != "" && res.Err == nil {
		// The same evidence uncompressed, or compressed another way, is in
		// the store already when its content's hash is: this copy's
		// records would all be there twice.
		if ck, ok := contentKey(br, content, key != sha); ok {
			if src, found, err := st.SourceByHash(ck); err == nil && found && src.ID != w.SourceID() && (src.Flows > 0 || len(src.Rejected) == 0) {
				w.Abort()
				*res = FileResult{Path: res.Path, SHA256: res.SHA256, Size: res.Size, Format: res.Format, Duplicate: true,
					Skipped: fmt.Sprintf("its content is already ingested as source %d (%s, %d flows)", src.ID, src.Path, src.Flows)}
				return
			}
			result.ContentKey = ck
		}
	}
	src, err := w.Commit(result)
	if err != nil {
		w.Abort()
		res.Err = fmt.Errorf("%s: cannot commit: %w", name, noDump{err})
		return
	}
	res.Flows = src.Flows
	if opt.Progress != nil {
		opt.Progress(name, res.Size, res.Size)
	}
}

// noDump is an error said in its first line: Badger follows a size limit's
// message with a hex dump of the key or value (a kilobyte, 70 lines).
type noDump struct{ err error }

func (e noDump) Error() string {
	s, _, _ := strings.Cut(e.err.Error(), "\n")
	for _, what := range []string{". Value:", ". Key:"} {
		s = strings.TrimSuffix(s, what)
	}
	return s
}

func (e noDump) Unwrap() error { return e.err }

// contentKey reads what the decoder left of a compressed file's content
// (a few bytes after its last record, if any) and returns the key its
// content is registered under: the content's SHA-256, or the metered key
// of it for a capture metered into flows.
func contentKey(br *bufio.Reader, content *asyncHash, metered bool) ([32]byte, bool) {
	if _, err := io.Copy(io.Discard, br); err != nil {
		return [32]byte{}, false
	}
	k := [32]byte(content.Sum())
	if metered {
		k = meteredKey(k)
	}
	return k, true
}

// copyRecords moves every decoded record into the writer.
func copyRecords(w *index.Writer, dec decoder, cd *captureDecoder, name string, read *int64, res *FileResult, opt Options) error {
	n := 0
	tick := func() {
		if n++; n&0xffff == 0 && opt.Progress != nil {
			opt.Progress(name, *read, res.Size)
		}
	}
	if cd != nil {
		cd.setSelf(w.SourceID())
		err := cd.run(func(r *flow.Record, source uint32) error {
			tick()
			return w.AddFor(r, source)
		})
		if err != nil {
			return fmt.Errorf("%s: cannot store: %w", name, err)
		}
		return nil
	}
	var rec flow.Record
	for dec.Next(&rec) {
		if err := w.Add(&rec); err != nil {
			return fmt.Errorf("%s: cannot store: %w", name, err)
		}
		tick()
	}
	return nil
}

// sniffWindow is how much of a file's content its format is told by: a
// CSV header line must fit in it, and wide exports' do (300 columns of
// Palo Alto's or Splunk's names run past 4 KiB, which made such files "not
// evidence", exit 0).
const sniffWindow = 64 << 10

// newDecoder picks the decoder for the content (or the forced --input).
// It returns a nil decoder for content it does not recognise.
func newDecoder(st *index.Store, br *bufio.Reader, name string, res *FileResult, opt Options) (string, decoder, error) {
	head, err := br.Peek(sniffWindow)
	format := opt.Input
	if format == "" || format == InputAuto {
		format = sniff(head)
	}
	if format == "" && err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		// Nothing to tell the format by: a compressed file damaged or cut
		// before its first records.
		return "", nil, fmt.Errorf("%s: cannot read the content: %w", name, err)
	}
	switch format {
	case InputJSON, InputNDJSON, InputZeek, InputCSV, InputKV, InputW3C, InputASA, InputSquid, InputSyslog:
		jf := jsonFormats[format]
		d := jsonflow.NewReader(br, jsonflow.Options{Format: jf, InputTZ: opt.InputTZ, AssumeTime: opt.AssumeTime, Now: nowOf(opt)})
		limit := opt.RejectExamples
		if limit == 0 {
			limit = 20
		}
		d.OnReject = func(r jsonflow.Reject) {
			if len(res.Examples) < limit {
				res.Examples = append(res.Examples, fmt.Sprintf("%s: %s", r.Where, rejectText(r)))
			}
		}
		return format, jsonDecoder{d}, nil
	case InputAzure:
		return format, azureDecoder{azureflow.NewReader(br, nowOf(opt))}, nil
	case InputNfcapd:
		d, err := nfcapd.NewReader(br)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", name, err)
		}
		return format, nfcapdDecoder{d}, nil
	case InputPcap, InputPcapng, InputIPFIX:
		pf := pcap.FormatPcap
		if format == InputPcapng {
			pf = pcap.FormatPcapng
		}
		if opt.Meter && format != InputIPFIX {
			d, err := newMeterDecoder(br, pf, name, opt)
			if err != nil {
				return "", nil, err
			}
			return format + " metered", d, nil
		}
		var d *captureDecoder
		var err error
		if format == InputIPFIX {
			d, err = newExportDecoder(st, pcap.NewIPFIXFile(br), name, opt)
		} else {
			d, err = newCaptureDecoder(st, br, pf, name, opt)
		}
		if err != nil {
			return "", nil, err
		}
		d.examples = func(ex string) {
			if len(res.Examples) < 20 {
				res.Examples = append(res.Examples, ex)
			}
		}
		return format, d, nil
	case "":
		return "", nil, nil
	}
	return "", nil, fmt.Errorf("%s: input format %q is not supported yet", name, format)
}

func rejectText(r jsonflow.Reject) string {
	if r.Detail == "" {
		return r.Reason
	}
	return r.Reason + ": " + r.Detail
}

func nowOf(opt Options) time.Time {
	if opt.Now != nil {
		return opt.Now()
	}
	return time.Now()
}

// sniff tells the format from the first bytes of the content.
func sniff(head []byte) string {
	switch pcap.Sniff(head) {
	case pcap.FormatPcap:
		return InputPcap
	case pcap.FormatPcapng:
		return InputPcapng
	}
	if nfcapd.Sniff(head) {
		return InputNfcapd
	}
	if pcap.SniffIPFIXFile(head) {
		return InputIPFIX
	}
	if azureflow.Sniff(head) {
		return InputAzure
	}
	if f := jsonflow.Sniff(head); f != jsonflow.FormatUnknown {
		for input, jf := range jsonFormats {
			if jf == f {
				return input
			}
		}
	}
	return ""
}

// SortedReasons returns rejection reasons in a stable order.
func SortedReasons(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
