package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ferrysync/ferry/prioritize"
	"github.com/ferrysync/ferry/receiver"
)

const pointsUsage = `Usage: ferry points DEST [--json]

Lists the restore points of a destination (a local DEST of 'ferry send', or
a namespace directory ROOT/NAME on a hub): committed manifests (complete,
partial or checkpoint) and lightweight points where a priority class was
fully placed since the last commit. Changes nothing.
`

func runPoints(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("points", pointsUsage, stderr)
	asJSON := fs.Bool("json", false, "print NDJSON, one object per restore point")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("points takes one destination directory, got %d arguments", fs.NArg())
	}
	pts, err := receiver.Points(fs.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, p := range pts {
			ev := map[string]any{"event": "point", "seq": p.Seq, "kind": p.Kind, "time": p.Time, "files": p.Files, "bytes": p.Bytes, "complete": p.Complete}
			if p.Kind == "class-done" {
				ev["class"] = prioritize.Class(p.Class).String()
			}
			if err := enc.Encode(ev); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tKIND\tTIME\tFILES\tBYTES\tSTATE")
	for _, p := range pts {
		t := p.Time.Local().Format(time.DateTime)
		if p.Kind == "class-done" {
			fmt.Fprintf(tw, "%d\t%s\t%s\t\t\t%s files placed\n", p.Seq, p.Kind, t, prioritize.Class(p.Class))
			continue
		}
		state := "partial"
		if p.Complete {
			state = "complete"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", p.Seq, p.Kind, t, p.Files, formatSize(p.Bytes), state)
	}
	return tw.Flush()
}
