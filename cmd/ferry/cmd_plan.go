package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/prioritize"
)

const planUsage = `Usage: ferry plan SRC [rules] [--json]

Prints the order in which 'ferry send' would transfer SRC: one line per file
with its position, class, size, path and the rule that placed it.
`

func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plan", planUsage, stderr)
	rf := addRuleFlags(fs)
	asJSON := fs.Bool("json", false, "print NDJSON, one object per file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("plan takes one source directory, got %d arguments", fs.NArg())
	}
	src := fs.Arg(0)
	if err := checkSource(src); err != nil {
		return err
	}
	rules, err := rf.rules()
	if err != nil {
		return err
	}
	plan, err := agent.Scan(ctx, agent.Options{Source: src, Rules: rules, Warn: warnTo(stderr)})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for i := range plan.Items {
			if err := enc.Encode(planEvent(i, &plan.Items[i])); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for i, it := range plan.Items {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", i+1, it.Class, formatSize(it.Size), it.Path, it.Reason)
	}
	return tw.Flush()
}

type planJSON struct {
	Event  string `json:"event"`
	Pos    int    `json:"pos"`
	Class  string `json:"class"`
	Size   int64  `json:"size"`
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

func planEvent(i int, it *prioritize.Item) planJSON {
	return planJSON{Event: "plan", Pos: i + 1, Class: it.Class.String(), Size: it.Size, Path: it.Path, Reason: it.Reason}
}

// warnTo prints scan warnings.
func warnTo(w io.Writer) func(string, error) {
	return func(path string, err error) {
		fmt.Fprintf(w, "ferry: skipping %s: %v\n", path, err)
	}
}
