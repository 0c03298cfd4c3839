package jsonflow

import (
	"fmt"
	"strings"
	"testing"
)

// TestWrappedArrays: flows wrapped in a document, as API exports and
// Elasticsearch's search results give them, are read as an array's
// elements, however long the array (it is streamed); the rest of the
// document is not read. A document that is itself a flow record, or whose
// array holds no flow records, stays NDJSON.
func TestWrappedArrays(t *testing.T) {
	rec := func(i int) string {
		return fmt.Sprintf(`{"src_ip":"10.0.0.%d","dst_ip":"192.0.2.9","ts":%d,"dst_port":443}`, 1+i%250, 1700000000+i)
	}
	recs := func(n int, wrap func(string) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = wrap(rec(i))
		}
		return strings.Join(parts, ",\n")
	}
	plain := func(s string) string { return s }
	for _, c := range []struct {
		name, in, path string
		flows          int
	}{
		{"flows", `{"flows":[` + recs(3, plain) + `]}`, "flows", 3},
		{"data then meta", `{"data": [` + recs(4, plain) + `], "meta": {"count": 4, "next": [{"x": 1}]}}`, "data", 4},
		{"elasticsearch hits", `{"took":5,"timed_out":false,"_shards":{"total":1},"hits":{"total":{"value":3},"max_score":1.0,"hits":[` +
			recs(3, func(r string) string { return `{"_index":"flows","_id":"x","_score":1.0,"_source":` + r + `}` }) + `]}}`, "hits.hits", 3},
		{"long, streamed", "{\n  \"records\": [\n" + recs(30000, plain) + "\n  ]\n}\n", "records", 30000},
	} {
		res := readOK(t, c.in, Options{})
		if len(res.recs) != c.flows || len(res.rejects) != 0 || res.r.Wrapped() != c.path || res.r.Format() != FormatArray {
			t.Errorf("%s: %d flows, rejects %v, wrapped %q, format %v; want %d from %q", c.name, len(res.recs), res.rejects,
				res.r.Wrapped(), res.r.Format(), c.flows, c.path)
		}
	}
	for _, c := range []struct {
		name, in string
		flows    int
	}{
		{"a record with an array of objects", `{"src_ip":"10.0.0.1","dst_ip":"192.0.2.9","ts":1700000000,"tags":[{"k":"v"}]}` + "\n" + rec(1) + "\n", 2},
		{"an array of other objects", `{"events":[{"kind":"login","user":"a"}]}` + "\n", 0},
	} {
		res := readOK(t, c.in, Options{})
		if len(res.recs) != c.flows || res.r.Wrapped() != "" || res.r.Format() != FormatNDJSON {
			t.Errorf("%s: %d flows, wrapped %q, format %v; want %d as NDJSON", c.name, len(res.recs), res.r.Wrapped(), res.r.Format(), c.flows)
		}
	}
}
