package main

import (
	"os"
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
