package index

// FreeBytes returns the bytes available to this user on the file system
// holding dir, as the store's own check sees them (the hook its tests
// replace); ok is false when it cannot tell. Ingest's spool files, written
// beside the store, stop before the free space falls under MinFreeBytes.
func FreeBytes(dir string) (n uint64, ok bool) { return freeSpace(dir) }
