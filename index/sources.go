package index

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Source status values.
const (
	StatusPending  = "pending"
	StatusComplete = "complete"
)

// Source is one ingested evidence file, registered by SHA-256. It is kept
// as JSON under nsSource (docs/format/keys.md).
type Source struct {
	ID         uint32           `json:"id"`
	SHA256     string           `json:"sha256"`
	Path       string           `json:"path"`
	Size       int64            `json:"size"`
	Format     string           `json:"format"`
	IngestedAt time.Time        `json:"ingested_at"`
	Version    string           `json:"flowcase_version"`
	Flows      int64            `json:"flows"`
	Rejected   map[string]int64 `json:"rejected"`
	// AssumedTime counts records that had no time and took --assume-time.
	AssumedTime int64  `json:"assumed_time"`
	Status      string `json:"status"`
	Segments    int    `json:"segments"`
	// Extra holds what the ingest layer wants to keep with the source
	// (decoder statistics); the store does not read it.
	Extra json.RawMessage `json:"extra,omitempty"`
}

// SourceByHash returns the source registered for a file's SHA-256 (or for
// the key it was registered under, SourceInfo.Key).
func (s *Store) SourceByHash(sha [32]byte) (*Source, bool, error) {
	var src *Source
	err := s.db.View(func(txn *badger.Txn) error {
		v, ok, err := getValue(txn, sourceByKey(sha))
		if err != nil || !ok {
			return err
		}
		if len(v) != 4 {
			return fmt.Errorf("cannot read source index: %w", ErrCorrupt)
		}
		src, err = getSource(txn, binary.BigEndian.Uint32(v))
		return err
	})
	return src, src != nil, err
}

func getSource(txn *badger.Txn, id uint32) (*Source, error) {
	v, ok, err := getValue(txn, sourceKey(id))
	if err != nil || !ok {
		return nil, err
	}
	var src Source
	if err := json.Unmarshal(v, &src); err != nil {
		return nil, fmt.Errorf("cannot decode source %d: %v: %w", id, err, ErrCorrupt)
	}
	return &src, nil
}

// putSource writes a source record and, beside it, its status key: one
// byte, kept in Badger's LSM tree, so the complete sources are listed
// without reading the records (from the value log) of every file of a case.
func putSource(txn *badger.Txn, src *Source) error {
	v, err := json.Marshal(src)
	if err != nil {
		return err
	}
	if err := txn.Set(sourceKey(src.ID), v); err != nil {
		return err
	}
	return txn.Set(statusKey(src.ID), []byte{statusCode(src.Status)})
}

// Status key values.
const (
	statusPendingCode  = 0
	statusCompleteCode = 1
)

func statusCode(status string) byte {
	if status == StatusComplete {
		return statusCompleteCode
	}
	return statusPendingCode
}

// formatStatusKeys is the first store format whose every source has a
// status key.
const formatStatusKeys = 5

// Sources lists every registered source by id.
func (s *Store) Sources() ([]*Source, error) {
	var out []*Source
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsSource}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			var src Source
			if err := json.Unmarshal(v, &src); err != nil {
				return fmt.Errorf("cannot decode source %x: %v: %w", it.Item().Key(), err, ErrCorrupt)
			}
			out = append(out, &src)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// completeSources returns the ids of complete sources; segments owned by
// any other source are invisible to queries. The set is read once and
// kept until a source completes or is removed.
func (s *Store) completeSources(txn *badger.Txn) (map[uint32]bool, error) {
	s.completeMu.Lock()
	defer s.completeMu.Unlock()
	if s.complete != nil {
		return s.complete, nil
	}
	var out map[uint32]bool
	var err error
	if s.meta.Format >= formatStatusKeys {
		out, err = completeByStatusKeys(txn)
	} else {
		out, err = completeByRecords(txn)
	}
	if err != nil {
		return nil, err
	}
	s.complete = out
	return out, nil
}

// completeByStatusKeys lists the complete sources from their status keys.
func completeByStatusKeys(txn *badger.Txn) (map[uint32]bool, error) {
	out := map[uint32]bool{}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsStatus}})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		var code byte
		err := it.Item().Value(func(v []byte) error {
			if len(v) != 1 || len(k) != 5 {
				return ErrCorrupt
			}
			code = v[0]
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read source status %x: %w", k, ErrCorrupt)
		}
		if code == statusCompleteCode {
			out[binary.BigEndian.Uint32(k[1:])] = true
		}
	}
	return out, nil
}

// completeByRecords lists the complete sources from their records (stores
// of formats before 5, opened read-only).
func completeByRecords(txn *badger.Txn) (map[uint32]bool, error) {
	out := map[uint32]bool{}
	err := forSourceRecords(txn, func(v []byte) error {
		id, status, err := sourceStatus(v)
		if status == StatusComplete {
			out[id] = true
		}
		return err
	})
	return out, err
}

// forSourceRecords hands every source record to fn (the value is valid
// during the call only); an error of fn is the record's decoding error.
func forSourceRecords(txn *badger.Txn, fn func(v []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{nsSource}, PrefetchValues: true})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := it.Item().Value(fn); err != nil {
			return fmt.Errorf("cannot decode source %x: %v: %w", it.Item().Key(), err, ErrCorrupt)
		}
	}
	return nil
}

// writeStatusKeys gives every source of an older store its status key
// (before the store is marked with format 5). Writing them again is
// harmless, so a run killed half way is finished by the next open.
func (s *Store) writeStatusKeys() error {
	statuses := map[uint32]byte{}
	err := s.db.View(func(txn *badger.Txn) error {
		return forSourceRecords(txn, func(v []byte) error {
			id, status, err := sourceStatus(v)
			statuses[id] = statusCode(status)
			return err
		})
	})
	if err != nil {
		return err
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for id, code := range statuses {
		if err := wb.Set(statusKey(id), []byte{code}); err != nil {
			return err
		}
	}
	return wb.Flush()
}

// sourceStatus reads the id and status of a source record. Records are
// written by json.Marshal of Source: the id first, the status before the
// decoder statistics (Extra), which are most of a record; a case of a
// thousand small files has a thousand records to read before its first
// query, so the two are picked out of the bytes (a quote inside a JSON
// string is always escaped, so `,"status":"` is the key itself). Any other
// shape is decoded in full.
func sourceStatus(v []byte) (uint32, string, error) {
	const statusKey = `,"status":"`
	if id, rest, ok := sourceID(v); ok {
		if j := bytes.Index(rest, []byte(statusKey)); j >= 0 {
			if st, ok := plainString(rest[j+len(statusKey):]); ok {
				return id, st, nil
			}
		}
	}
	var src struct {
		ID     uint32 `json:"id"`
		Status string `json:"status"`
	}
	err := json.Unmarshal(v, &src)
	return src.ID, src.Status, err
}

// SourceHashes returns the SHA-256 (hex) of every registered source by id,
// for printing with the rows that came from them.
func (s *Store) SourceHashes() (map[uint32]string, error) {
	out := make(map[uint32]string)
	err := s.db.View(func(txn *badger.Txn) error {
		return forSourceRecords(txn, func(v []byte) error {
			id, sha, err := sourceHash(v)
			out[id] = sha
			return err
		})
	})
	return out, err
}

// SourceHash returns the SHA-256 (hex) of source id, "" when no source has
// that id. A command that prints a few sources' rows reads only their
// records this way, not those of every file of the case.
func (s *Store) SourceHash(id uint32) (string, error) {
	var sha string
	err := s.db.View(func(txn *badger.Txn) error {
		v, ok, err := getValue(txn, sourceKey(id))
		if err != nil || !ok {
			return err
		}
		if _, sha, err = sourceHash(v); err != nil {
			return fmt.Errorf("cannot decode source %d: %v: %w", id, err, ErrCorrupt)
		}
		return nil
	})
	return sha, err
}

// sourceHash returns the id and SHA-256 of a source record. Like
// sourceStatus it picks them out of the JSON that putSource wrote (id
// first, sha256 second: a store of a thousand small files answers a query
// without decoding a thousand records whole), and decodes the record only
// when it looks otherwise.
func sourceHash(v []byte) (uint32, string, error) {
	if id, rest, ok := sourceID(v); ok {
		if h, ok := bytes.CutPrefix(rest, []byte(`"sha256":"`)); ok {
			if sha, ok := plainString(h); ok {
				return id, sha, nil
			}
		}
	}
	var src struct {
		ID     uint32 `json:"id"`
		SHA256 string `json:"sha256"`
	}
	err := json.Unmarshal(v, &src)
	return src.ID, src.SHA256, err
}

// sourceID reads the id at the front of a source record as putSource
// writes it, and returns what follows the comma after it.
func sourceID(v []byte) (uint32, []byte, bool) {
	rest, ok := bytes.CutPrefix(v, []byte(`{"id":`))
	if !ok {
		return 0, nil, false
	}
	i := bytes.IndexByte(rest, ',')
	if i <= 0 {
		return 0, nil, false
	}
	id, err := strconv.ParseUint(string(rest[:i]), 10, 32)
	return uint32(id), rest[i+1:], err == nil
}

// plainString returns the JSON string body at the front of b (after its
// opening quote) when it holds no escapes.
func plainString(b []byte) (string, bool) {
	k := bytes.IndexByte(b, '"')
	if k < 0 || bytes.IndexByte(b[:k], '\\') >= 0 {
		return "", false
	}
	return string(b[:k]), true
}

// forgetSources drops the cached set of complete sources.
func (s *Store) forgetSources() {
	s.completeMu.Lock()
	s.complete = nil
	s.completeMu.Unlock()
}

// HashHex formats a SHA-256 the way sources store it.
func HashHex(sha [32]byte) string { return hex.EncodeToString(sha[:]) }
