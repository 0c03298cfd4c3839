package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/flowcase/flowcase/detectors"
	"github.com/flowcase/flowcase/internal/jsonout"
)

// Rows: the ndjson and csv forms of the commands whose output is a list
// (findings, top entries, timeline buckets). A row is a JSON object, the
// same as in the json form; ndjson writes one per line, csv flattens each
// (nested objects as dotted columns, arrays of plain values joined by
// spaces, other arrays as JSON text) under a header of every column seen,
// in the order first seen.

// rowOf marshals v, an object, as a row, with a "finding" member first when
// kind is set.
func rowOf(kind string, v any) (json.RawMessage, error) {
	b, err := jsonout.Marshal(v)
	if err != nil || kind == "" {
		return b, err
	}
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("row of %T is not an object", v)
	}
	head := `{"finding":` + strconv.Quote(kind)
	if len(b) == 2 {
		return json.RawMessage(head + "}"), nil
	}
	return json.RawMessage(head + "," + string(b[1:])), nil
}

// writeRowsOf writes each element of a slice as a row, as ndjson or csv.
func writeRowsOf[T any](w io.Writer, format string, vs []T) error {
	rows := make([]json.RawMessage, 0, len(vs))
	for i := range vs {
		r, err := rowOf("", vs[i])
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	return writeRows(w, format, rows)
}

// findingRows are the rows of a report's findings, or of one detector's
// (part as in reportPart); the report's ndjson begins with its provenance
// and summary.
func findingRows(rep *detectors.Report, part, format string) ([]json.RawMessage, error) {
	var rows []json.RawMessage
	add := func(kind string, v any) error {
		r, err := rowOf(kind, v)
		rows = append(rows, r)
		return err
	}
	if part == "report" && format == "ndjson" {
		head := map[string]any{"timestamp": rep.Timestamp, "version": rep.Version, "store": rep.Store, "range": rep.Range,
			"filter": rep.Filter, "parameters": rep.Parameters, "total_flows": rep.TotalFlows, "summary": rep.Summary,
			"warnings": rep.Warnings, "notes": rep.Notes}
		if err := add("report", head); err != nil {
			return nil, err
		}
	}
	if part == "baseline" || part == "report" && format == "ndjson" {
		if err := add("baseline", rep.Baseline); err != nil {
			return nil, err
		}
	}
	for _, e := range rep.PortScans {
		if e.Scan != nil && (part == "report" || part == "scans") {
			if err := add("scan", e.Scan); err != nil {
				return nil, err
			}
		}
		if e.Sweep != nil && (part == "report" || part == "sweeps") {
			if err := add("sweep", e.Sweep); err != nil {
				return nil, err
			}
		}
	}
	if part == "report" || part == "exfil" {
		for i := range rep.ExfiltrationCandidates {
			if err := add("exfil", rep.ExfiltrationCandidates[i]); err != nil {
				return nil, err
			}
		}
	}
	if part == "report" || part == "beacons" {
		for i := range rep.BeaconingPatterns {
			if err := add("beacon", rep.BeaconingPatterns[i]); err != nil {
				return nil, err
			}
		}
	}
	return rows, nil
}

// writeRows writes rows as ndjson or csv.
func writeRows(w io.Writer, format string, rows []json.RawMessage) error {
	if format == "ndjson" {
		for _, r := range rows {
			var b bytes.Buffer
			if err := json.Compact(&b, r); err != nil {
				return err
			}
			b.WriteByte('\n')
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
		}
		return nil
	}
	if len(rows) == 0 {
		return nil // no columns to name: an empty file, not an empty header line
	}
	var cols []string
	index := map[string]int{}
	flat := make([][]column, len(rows))
	for i, r := range rows {
		if err := flatten(&flat[i], "", r); err != nil {
			return err
		}
		for _, c := range flat[i] {
			if _, ok := index[c.name]; !ok {
				index[c.name] = len(cols)
				cols = append(cols, c.name)
			}
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for _, f := range flat {
		clear(rec)
		for _, c := range f {
			rec[index[c.name]] = c.value
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// column is one flattened member of a row.
type column struct{ name, value string }

// flatten appends the members of the JSON object b, in order, to out:
// nested objects as prefix.name, strings unquoted, null as empty, arrays
// of plain values joined by spaces, other arrays as their JSON text.
func flatten(out *[]column, prefix string, b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("csv row: not an object: %.40s", b)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name := prefix + t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		switch raw[0] {
		case '{':
			if err := flatten(out, name+".", raw); err != nil {
				return err
			}
		case '[':
			*out = append(*out, column{name, arrayText(raw)})
		default:
			*out = append(*out, column{name, plainText(raw)})
		}
	}
	return nil
}

// plainText is a JSON value other than an object or array as CSV text.
func plainText(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case 'n':
		return ""
	}
	return string(raw)
}

// arrayText joins an array of plain values with spaces, or returns its
// compact JSON text.
func arrayText(raw json.RawMessage) string {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return string(raw)
	}
	parts := make([]string, len(items))
	for i, it := range items {
		if it[0] == '{' || it[0] == '[' {
			var b bytes.Buffer
			json.Compact(&b, raw)
			return b.String()
		}
		parts[i] = plainText(it)
	}
	return strings.Join(parts, " ")
}
