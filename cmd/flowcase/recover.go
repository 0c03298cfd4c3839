package main

import (
	"fmt"

	"github.com/flowcase/flowcase/index"
	"github.com/urfave/cli/v2"
)

func recoverCommand() *cli.Command {
	return &cli.Command{
		Name:  "recover",
		Usage: "repair a store left open by a killed ingest, so it can be queried read-only again",
		Description: "Opens the store read-write, which replays Badger's log, removes the segments of\n" +
			"sources a killed ingest left pending and any orphan keys, and closes it cleanly.\n" +
			"Complete sources are never touched. A store whose MANIFEST is cut short beside table\n" +
			"files it does not list is refused (opening it would delete them); --discard-unlisted\n" +
			"opens it anyway, when a crash cut the MANIFEST during a write (keep a copy first).",
		Flags: []cli.Flag{storeFlag(), &cli.BoolFlag{Name: "discard-unlisted",
			Usage: "let Badger delete table files a MANIFEST cut short does not list (keep a copy first)"}},
		Action: func(c *cli.Context) error {
			path := storePath(c)
			if !index.Exists(path) {
				return fmt.Errorf("%w at %s", index.ErrNoStore, path)
			}
			st, err := index.Open(path, index.Options{DiscardUnlisted: c.Bool("discard-unlisted")})
			if err != nil {
				return err
			}
			cl := st.Cleaned
			if err := st.Close(); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "recovered %s: removed %d pending sources, %d segments, %d orphan keys\n",
				path, cl.PendingSources, cl.Segments, cl.OrphanKeys)
			return nil
		},
	}
}
