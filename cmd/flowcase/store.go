package main

import (
	"os"
	"path/filepath"
	"time"

	"github.com/flowcase/flowcase/index"
	"github.com/urfave/cli/v2"
)

const defaultStore = "./flowcase.db"

func storeFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "store",
		Usage:   "case store directory (default: $FLOWCASE_STORE, else " + defaultStore + ")",
		EnvVars: nil,
	}
}

// storePath resolves --store (on the command or before it), then
// $FLOWCASE_STORE, then ./flowcase.db.
func storePath(c *cli.Context) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("store") {
			return ctx.String("store")
		}
	}
	if env := os.Getenv("FLOWCASE_STORE"); env != "" {
		return env
	}
	return defaultStore
}

// openRead opens the store read-only, for queries.
func openRead(c *cli.Context) (*index.Store, error) {
	return index.Open(storePath(c), index.Options{ReadOnly: true})
}

// openWrite opens or creates the store for ingest.
func openWrite(c *cli.Context, width time.Duration) (*index.Store, error) {
	return index.Open(storePath(c), index.Options{Create: true, PartitionWidth: width, SegmentRows: c.Int("segment-rows")})
}

// sourceHashes gives the SHA-256 of sources by id, reading each source's
// record the first time it is asked for: `query flows` over an hour of a
// case of a thousand files reads the few records its rows name, not a
// thousand. The first error is kept in err; get then answers "".
type sourceHashes struct {
	st  *index.Store
	m   map[uint32]string
	err error
}

func (h *sourceHashes) get(id uint32) string {
	if sha, ok := h.m[id]; ok || h.err != nil {
		return sha
	}
	sha, err := h.st.SourceHash(id)
	if err != nil {
		h.err = err
		return ""
	}
	if h.m == nil {
		h.m = make(map[uint32]string)
	}
	h.m[id] = sha
	return sha
}

// absPath is path made absolute, as a case file names a store: a relative
// one means nothing from another directory.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
