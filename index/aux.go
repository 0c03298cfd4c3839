package index

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Auxiliary state: keys under nsAux that the ingest layer owns (NetFlow
// templates, parked data sets, export packets seen). The store keeps them
// without reading them; see docs/format/aux.md.

// GetAux returns the value of an auxiliary key.
func (s *Store) GetAux(key []byte) ([]byte, bool, error) {
	var v []byte
	var ok bool
	err := s.db.View(func(txn *badger.Txn) (err error) {
		v, ok, err = getValue(txn, key)
		return err
	})
	return v, ok, err
}

// ScanAux calls fn for every auxiliary key with the prefix, in key order,
// until fn returns false. Key and value are only valid during the call.
func (s *Store) ScanAux(prefix []byte, fn func(key, val []byte) bool) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var goOn bool
			err := it.Item().Value(func(v []byte) error {
				goOn = fn(it.Item().Key(), v)
				return nil
			})
			if err != nil {
				return err
			}
			if !goOn {
				return nil
			}
		}
		return nil
	})
}

// AuxBatch writes auxiliary keys outside any source transaction, for state
// whose validity the ingest layer checks itself (a value naming a source
// that never completed is ignored). It batches writes across Badger's
// transaction size limit.
type AuxBatch struct {
	wb *badger.WriteBatch
}

// NewAuxBatch starts a batch.
func (s *Store) NewAuxBatch() (*AuxBatch, error) {
	if s.readOnly {
		return nil, ErrReadOnly
	}
	return &AuxBatch{wb: s.db.NewWriteBatch()}, nil
}

// Set adds a key; key and value must not change until Flush.
func (b *AuxBatch) Set(key, val []byte) error {
	if len(key) < 2 || key[0] != nsAux {
		return fmt.Errorf("BUG: auxiliary key %x outside its namespace", key)
	}
	return b.wb.Set(key, val)
}

// Flush writes what the batch holds.
func (b *AuxBatch) Flush() error { return b.wb.Flush() }

// Cancel drops what was not flushed.
func (b *AuxBatch) Cancel() { b.wb.Cancel() }

// SourceComplete reports whether a source exists and is complete.
func (s *Store) SourceComplete(id uint32) (bool, error) {
	var ok bool
	err := s.db.View(func(txn *badger.Txn) error {
		src, err := getSource(txn, id)
		ok = src != nil && src.Status == StatusComplete
		return err
	})
	return ok, err
}
