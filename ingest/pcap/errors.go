package pcap

import (
	"errors"
	"fmt"
)

// ErrNotCapture is returned by NewReader when the input is neither pcap nor pcapng (nor a
// gzip stream holding one).
var ErrNotCapture = errors.New("not a pcap/pcapng capture")

// FileError says where a capture stops making sense: the record or block at Offset, which
// would have held packet number Packet. Reader.Err returns it when the rest of the file cannot
// be followed; a packet cut short by the end of the file is counted in Stats instead.
type FileError struct {
	Packet uint64 // 1-based number the damaged packet has (packets before it + 1)
	Offset int64  // byte offset of its record header or pcapng block (in the decompressed stream)
	Reason string // a Reason constant, or ReasonRead
	Detail string // the numbers behind it, got/want
	Err    error  // the underlying error, for ReasonRead
}

// ReasonRead is the FileError reason when the stream itself fails: an I/O error, or a gzip
// stream that is corrupt (a gzip stream cut short counts as a truncated file instead).
const ReasonRead = "read error"

func (e *FileError) Error() string {
	return fmt.Sprintf("cannot read packet %d at offset %d: %s: %s", e.Packet, e.Offset, e.Reason, e.Detail)
}

func (e *FileError) Unwrap() error { return e.Err }
