package main

import (
	"fmt"
	"time"

	"github.com/flowcase/flowcase/index"
	"github.com/urfave/cli/v2"
)

func compactCommand() *cli.Command {
	return &cli.Command{
		Name:  "compact",
		Usage: "merge the small segments that many small evidence files leave, partition by partition",
		Description: "Each partition is rewritten atomically: a killed compaction loses nothing and the next\n" +
			"read-write open removes its unfinished segments. Queries see the same flows before and after.",
		Flags: []cli.Flag{storeFlag()},
		Action: func(c *cli.Context) error {
			setMemoryLimit() // its memory follows the case
			// An existing store only: a mistyped --store made an empty one.
			st, err := index.Open(storePath(c), index.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			begin := time.Now()
			cs, err := st.Compact()
			if err != nil {
				return err
			}
			if err := st.Close(); err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "compacted %d partitions: %d segments into %d, %d flows rewritten in %s\n",
				cs.Partitions, cs.SegmentsBefore, cs.SegmentsAfter, cs.Rows, time.Since(begin).Round(time.Millisecond))
			return nil
		},
	}
}
