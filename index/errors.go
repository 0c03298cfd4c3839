package index

import "errors"

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrNoStore: the path holds no case store (queries never create one).
	ErrNoStore = errors.New("no case store")
	// ErrInUse: another process holds the store for writing.
	ErrInUse = errors.New("store in use")
	// ErrNotClean: the store was not closed cleanly and cannot be opened
	// read-only until a read-write open (flowcase recover) repairs it.
	ErrNotClean = errors.New("store not closed cleanly")
	// ErrFormat: the store was written by an incompatible format version.
	ErrFormat = errors.New("unsupported store format")
	// ErrPartitionWidth: --partition differs from the width the store was created with.
	ErrPartitionWidth = errors.New("partition width is fixed at store creation")
	// ErrCorrupt: a stored structure does not decode.
	ErrCorrupt = errors.New("corrupt store structure")
	// ErrNotStoreDir: a store would be created where other files are (an
	// evidence folder given as --store by mistake) or over a file.
	ErrNotStoreDir = errors.New("not a case store")
	// ErrDamaged: the store's files are damaged (a MANIFEST cut short, a
	// table file missing or unreadable); it was not opened, so nothing of
	// it was changed.
	ErrDamaged = errors.New("case store damaged")
	// ErrDiskFull: the store's file system has less free space than a
	// write needs (MinFreeBytes).
	ErrDiskFull = errors.New("not enough free disk space")
	// ErrReadOnly: a write was attempted on a read-only store.
	ErrReadOnly = errors.New("store opened read-only")
)
