// Command ferry syncs a directory tree across thin, flaky links in the order
// that matters. See README.md for a tour; each subcommand has --help.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
)

// Exit codes, documented in README.md.
const (
	exitOK       = 0 // a complete restore point was committed
	exitFailed   = 1 // nothing was committed
	exitUsage    = 2 // bad command line
	exitPartial  = 3 // a restore point was committed, but some entries failed
	exitCanceled = 130
)

// errPartial marks a run that committed a restore point without every entry.
var errPartial = errors.New("some entries were not sent")

// usageError is a bad command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

const topUsage = `ferry syncs a directory tree across thin, flaky links, critical files first.

Usage:
  ferry id                              print this machine's identity ID
  ferry plan SRC [rules]                print the ordered transfer plan
  ferry send SRC DEST [rules] [options] push SRC to a directory or a hub (host:port)
  ferry serve --root DIR --listen ADDR  run a hub
  ferry points DEST                     list the restore points of a destination

Run 'ferry COMMAND --help' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return usagef("no command")
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"id":     runID,
		"plan":   runPlan,
		"send":   runSend,
		"serve":  runServe,
		"points": runPoints,
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, topUsage)
		return nil
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprint(stderr, topUsage)
		return usagef("unknown command %q", args[0])
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

// exitCode prints err and maps it to the documented exit codes.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "ferry: %v\n", err)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitCanceled
	case errors.Is(err, errPartial):
		return exitPartial
	}
	return exitFailed
}

// newFlags returns a subcommand's flag set, whose errors are usage errors.
func newFlags(name, usage string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fmt.Fprintf(stderr, "\nFlags:\n%s", fs.FlagUsages())
	}
	return fs
}

// parse parses args, turning flag errors into usage errors.
func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}
