package jsonflow

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/flowcase/flowcase/internal/flow"
)

const (
	good1 = `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000}`
	good2 = `{"src_ip":"10.0.0.3","dst_ip":"10.0.0.4","ts":1700000001}`
	good3 = `{"src_ip":"10.0.0.5","dst_ip":"10.0.0.6","ts":1700000002}`
)

// badRecords are records rejected for each reason (except the too long
// ones, in TestTooLong), each written as one line. Unreadable values of
// optional fields reject nothing (TestIgnoredFields).
var badRecords = []struct {
	obj    string
	reason string
}{
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,}`, ReasonMalformed},
	{`{"src_ip":"10.0.0.1" "dst_ip":"10.0.0.2","ts":1700000000}`, ReasonMalformed},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":01700000000}`, ReasonMalformed},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"x":tru}`, ReasonMalformed},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"x":"\q"}`, ReasonMalformed},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"x":[1,}`, ReasonMalformed},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000} {}`, ReasonMalformed},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000`, ReasonMalformed},
	{`nonsense`, ReasonMalformed},
	{`[1,2]`, ReasonNotObject},
	{`"10.0.0.1"`, ReasonNotObject},
	{`null`, ReasonNotObject},
	{`{"dst_ip":"10.0.0.2","ts":1700000000}`, ReasonMissingAddr},
	{`{"src_ip":"10.0.0.1","ts":1700000000}`, ReasonMissingAddr},
	{`{"src_ip":"","dst_ip":"10.0.0.2","ts":1700000000}`, ReasonMissingAddr},
	{`{"src_ip":null,"dst_ip":"10.0.0.2","ts":1700000000}`, ReasonMissingAddr},
	{`{"src_ip":"10.0.0.256","dst_ip":"10.0.0.2","ts":1700000000}`, ReasonBadAddr},
	{`{"src_ip":"10.0.0.01","dst_ip":"10.0.0.2","ts":1700000000}`, ReasonBadAddr},
	{`{"src_ip":"10.0.0.1","dst_ip":"fe80::g%eth0","ts":1700000000}`, ReasonBadAddr},
	{`{"src_ip":"10.0.0.1","dst_ip":"[10.0.0.2","ts":1700000000}`, ReasonBadAddr},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.0/8","ts":1700000000}`, ReasonBadAddr},
	{`{"src_ip":4294967296,"dst_ip":"10.0.0.2","ts":1700000000}`, ReasonBadAddr},
	{`{"src_ip":1.5,"dst_ip":"10.0.0.2","ts":1700000000}`, ReasonBadAddr},
	{`{"src_ip":true,"dst_ip":"10.0.0.2","ts":1700000000}`, ReasonBadAddr},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"src_port":65536}`, ReasonPortRange},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"dst_port":-1}`, ReasonPortRange},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"src_port":"70000"}`, ReasonPortRange},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"bytes_in":true}`, ReasonBadNumber},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"bytes_out":[3]}`, ReasonBadNumber},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"dst_port":"https"}`, ReasonBadNumber},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"bytes_in":"12k"}`, ReasonBadNumber},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"bytes_in":-5}`, ReasonNumberRange},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"bytes_out":18446744073709551616}`, ReasonNumberRange},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"protocol":"tcpx"}`, ReasonBadProto},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"protocol":256}`, ReasonBadProto},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"protocol":false}`, ReasonBadProto},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2"}`, ReasonNoTime},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":null,"end":1700000000}`, ReasonNoTime},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":"2024-01-01T00:00:00"}`, ReasonNoZone},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":"2024-01-01"}`, ReasonBadTime},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"end":1699999999}`, ReasonEndBeforeStart},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":0}`, ReasonTooOld},
	{`{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":"2030-01-01T00:00:00Z"}`, ReasonFuture},
}

// TestRejects puts each bad record third among good ones, as NDJSON and
// as an array: it is skipped with its reason and place, the others kept.
func TestRejects(t *testing.T) {
	for _, bad := range badRecords {
		inputs := []struct {
			in, where string
			good      int
		}{
			{good1 + "\n" + good2 + "\n" + bad.obj + "\n" + good3 + "\n", "line 3", 3},
			{"\n" + good1 + "\n\n" + bad.obj + "\n" + good3, "line 4", 2},
			{"[" + good1 + ",\n" + good2 + ",\n" + bad.obj + ",\n" + good3 + "]", "index 2", 3},
		}
		for _, in := range inputs {
			checkReject(t, in.in, bad.obj, bad.reason, in.where, in.good)
		}
	}
}

func checkReject(t *testing.T, in, obj, reason, where string, good int) {
	t.Helper()
	res := readOK(t, in, Options{})
	if len(res.rejects) != 1 {
		t.Errorf("%s at %s: got rejects %+v, want one %q", obj, where, res.rejects, reason)
		return
	}
	j := res.rejects[0]
	if j.Reason != reason || j.Where != where || j.Detail == "" {
		t.Errorf("%s: got %q at %q (%s), want %q at %q", obj, j.Reason, j.Where, j.Detail, reason, where)
	}
	if res.r.Rejects()[reason] != 1 || res.r.Rejected() != 1 {
		t.Errorf("%s: Rejects() = %v", obj, res.r.Rejects())
	}
	if n := len(res.recs); n != good {
		t.Errorf("%s at %s: got %d good records, want %d", obj, where, n, good)
	}
	if want := int64(strings.LastIndex(in, obj)); j.Offset != want {
		t.Errorf("%s at %s: Offset %d, want %d", obj, where, j.Offset, want)
	}
}

// TestMalformedMiddle: broken lines and elements in the middle of a file
// lose only themselves.
func TestMalformedMiddle(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		records int
		wheres  []string
	}{
		{"ndjson", good1 + "\n{\"src_ip\": \n" + `{"a":"unterminated` + "\n" + good2 + "\n", 2, []string{"line 2", "line 3"}},
		{"array missing brace", "[" + good1 + `, {"src_ip":"10.0.0.1"` + ",\n" + good2 + "]", 2, []string{"index 1"}},
		{"array missing braces", "[" + good1 + `, {"a":{"b":1` + ",\n" + good2 + "]", 2, []string{"index 1"}},
		{"array missing brace at the end", "[" + good1 + "," + good2 + `, {"src_ip":"10.0.0.1"]`, 2, []string{"index 2"}},
		{"array extra brace", "[" + good1 + `, {"src_ip":"10.0.0.1"}}` + "," + good2 + "]", 2, []string{"index 1"}},
		{"array junk", "[" + good1 + `, {"x":1} junk ,` + good2 + "]", 2, []string{"index 1"}},
		{"array empty element", "[" + good1 + ",," + good2 + "]", 2, []string{"index 1"}},
		{"array scalars", "[1, \"a\", null, true, [], " + good1 + "]", 1, []string{"index 0", "index 1", "index 2", "index 3", "index 4"}},
		{"array trailing comma", "[" + good1 + "," + good2 + ",]", 2, nil},
		{"two arrays", "[" + good1 + "]\n[" + good2 + "]\n", 2, nil},
		{"array wrong closer", "[" + good1 + `,{"x":[1,},` + good2 + "]", 2, []string{"index 1"}},
		{"array deep", "[" + good1 + "," + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "," + good2 + "]", 2, []string{"index 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readOK(t, tt.in, Options{})
			if len(res.recs) != tt.records {
				t.Errorf("got %d records, want %d (rejects %+v)", len(res.recs), tt.records, res.rejects)
			}
			var wheres []string
			for _, j := range res.rejects {
				wheres = append(wheres, j.Where)
			}
			if fmt.Sprint(wheres) != fmt.Sprint(tt.wheres) {
				t.Errorf("rejects at %v, want %v", wheres, tt.wheres)
			}
		})
	}
}

// TestArrayBroken: an array that cannot be followed stops with
// ErrArrayBroken naming the index and offset, keeping what was read.
func TestArrayBroken(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		records int
		msg     string
	}{
		{"unterminated string", "[" + good1 + `,{"src_ip":"10.0.0.1,` + good2 + "]", 1,
			"cannot follow JSON array: unterminated element at index 1, offset 59"},
		{"cut in an element", "[" + good1 + "," + good2[:20], 1,
			"cannot follow JSON array: unterminated element at index 1, offset 59"},
		// An unclosed '[' swallows the rest of the array.
		{"unclosed bracket", "[" + good1 + `,{"x":[1,` + good2 + "]", 1,
			"cannot follow JSON array: unterminated element at index 1, offset 59"},
		{"cut after a comma", "[" + good1 + ",\n  ", 1,
			"cannot follow JSON array: unexpected end of input at index 1, offset 62"},
		{"cut after an element", "[" + good1 + "," + good2, 2,
			"cannot follow JSON array: array not closed at index 2, offset 116"},
		{"cut after '['", "[", 0,
			"cannot follow JSON array: unexpected end of input at index 0, offset 1"},
		{"data after the array", "[" + good1 + "] x", 1,
			"cannot follow JSON array: unexpected 'x' after the array's end at offset 60"},
		{"object after the array", "[" + good1 + "]\n" + good2, 1,
			"cannot follow JSON array: unexpected '{' after the array's end at offset 60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := read(t, tt.in, Options{})
			err := res.r.Err()
			if !errors.Is(err, ErrArrayBroken) || err.Error() != tt.msg {
				t.Errorf("Err() = %v, want %s", err, tt.msg)
			}
			if len(res.recs) != tt.records {
				t.Errorf("got %d records, want %d", len(res.recs), tt.records)
			}
			if res.r.Next(&flow.Record{}) {
				t.Errorf("Next after a fatal error returned true")
			}
		})
	}
}

func TestTooLong(t *testing.T) {
	long := `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"pad":"` + strings.Repeat("x", MaxRecord) + `"}`
	justFits := `{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","ts":1700000000,"pad":"`
	justFits += strings.Repeat("y", MaxRecord-len(justFits)-2) + `"}`
	tests := []struct {
		name    string
		in      string
		records int
		reason  string
		where   string
	}{
		{"ndjson", good1 + "\n" + long + "\r\n" + good2 + "\n", 2, ReasonLineTooLong, "line 2"},
		{"ndjson last line", good1 + "\n" + long, 1, ReasonLineTooLong, "line 2"},
		{"ndjson just fits", good1 + "\n" + justFits + "\r\n" + good2 + "\n", 3, "", ""},
		{"array", "[" + good1 + ",\n" + long + "\n," + good2 + "]", 2, ReasonElemTooLong, "index 1"},
		{"array just fits", "[" + good1 + "," + justFits + "," + good2 + "]", 3, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readOK(t, tt.in, Options{})
			if len(res.recs) != tt.records {
				t.Errorf("got %d records, want %d", len(res.recs), tt.records)
			}
			if tt.reason == "" {
				if len(res.rejects) != 0 {
					t.Errorf("got rejects %+v, want none", res.rejects)
				}
				return
			}
			if len(res.rejects) != 1 || res.rejects[0].Reason != tt.reason || res.rejects[0].Where != tt.where {
				t.Errorf("got rejects %+v, want %q at %q", res.rejects, tt.reason, tt.where)
			}
		})
	}
}

// errReader returns data, then an error.
type errReader struct {
	data string
	err  error
}

func (e *errReader) Read(p []byte) (int, error) {
	if e.data == "" {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	for _, in := range []string{good1 + "\n" + good2[:10], "[" + good1 + "," + good2[:10]} {
		r := NewReader(&errReader{data: in, err: boom}, Options{Now: testNow})
		var rec flow.Record
		n := 0
		for r.Next(&rec) {
			n++
		}
		err := r.Err()
		if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "cannot read input at offset ") || n != 1 {
			t.Errorf("%q: got %d records, Err() = %v; want 1 and a read error", in, n, err)
		}
	}
	// io.ErrUnexpectedEOF from a gzip reader is a read error, not a clean end.
	r := NewReader(&errReader{data: good1 + "\n", err: io.ErrUnexpectedEOF}, Options{Now: testNow})
	for r.Next(&flow.Record{}) {
	}
	if !errors.Is(r.Err(), io.ErrUnexpectedEOF) {
		t.Errorf("Err() = %v, want io.ErrUnexpectedEOF", r.Err())
	}
}
