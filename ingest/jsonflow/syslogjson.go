package jsonflow

import (
	"bytes"

	"github.com/flowcase/flowcase/internal/flow"
)

// JSON records forwarded through syslog, as a SOC's rsyslog or syslog-ng
// writes them to a file: each line a syslog header, then one JSON object
// (Suricata's eve.json, Zeek's JSON logs, a collector's flows):
//
//	<14>May  1 12:00:40 sensor1 suricata[1234]: {"timestamp":"...","event_type":"flow",...}
//	2023-05-01T12:00:40+02:00 sensor1 zeek: {"ts":1682935240.1,"uid":"C1",...}
//
// The header is passed over and the object read as NDJSON's are.

// syslogJSON returns the JSON object a syslog line carries after its
// header, or nil: the line does not start with '{' or '[', and it ends
// with the object's '}'.
func syslogJSON(line []byte) []byte {
	line = bytes.TrimRight(line, " \r")
	if len(line) < 3 || line[0] == '{' || line[0] == '[' || isSpace(line[0]) || line[len(line)-1] != '}' {
		return nil // an object of NDJSON or of a pretty-printed array, not a syslog line
	}
	// The object starts at the first '{' after a ": " or a space that
	// ends the header (a program name and pid: "suricata[1234]: {").
	i := bytes.Index(line, []byte(" {"))
	if i < 0 {
		return nil
	}
	return line[i+1:]
}

// syslogJSONLine reports whether line is a syslog line carrying a JSON
// object of a flow log: with a source and a destination address, or one of
// Suricata's or Zeek's records that are not flows.
func syslogJSONLine(line []byte) bool {
	obj := syslogJSON(line)
	if obj == nil {
		return false
	}
	d := decoder{latest: 1 << 62}
	var r flow.Record
	switch reason, _ := d.decode(obj, &r); reason {
	case ReasonMalformed, ReasonNotObject, ReasonMissingAddr:
		return false
	}
	return true
}
