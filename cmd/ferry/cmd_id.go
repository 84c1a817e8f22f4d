package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ferrysync/ferry/internal/identity"
)

const idUsage = `Usage: ferry id [--state DIR]

Prints this machine's identity ID, creating a key pair on first use. Give the
ID to a hub's --allow, or to a sender's --hub-id.
`

func runID(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("id", idUsage, stderr)
	state := stateFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("id takes no arguments")
	}
	id, created, err := loadIdentity(*state)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintln(stderr, "created a new identity")
	}
	fmt.Fprintln(stdout, id.ID)
	return nil
}

func loadIdentity(flag string) (*identity.Identity, bool, error) {
	dir, err := stateDir(flag)
	if err != nil {
		return nil, false, err
	}
	return identity.Load(dir)
}
