//go:build linux

package bench

import (
	"context"
	"fmt"
	"strings"
)

// Contender is one sync tool under test. See the package documentation for
// the contract of each method.
type Contender interface {
	// Name is the short name used by --contenders and in the tables.
	Name() string
	// Version describes the tool's version for the report.
	Version(ctx context.Context) string
	// Start prepares the contender for a preset: servers in the
	// destination namespace, keys, identities.
	Start(ctx context.Context, env *Env) error
	// Reset empties the destination and the contender's caches, so that
	// the next Sync is a first sync.
	Reset(ctx context.Context) error
	// Dest is the host path where the synced tree appears.
	Dest() string
	// Ignore reports whether a path relative to Dest is the contender's
	// own state, which is not part of the tree.
	Ignore(rel string) bool
	// Sync pushes env.Src (read at each call: the runner points it at
	// the large-file set for those runs) to Dest through the link and
	// returns once the sender has exited. Cancelling ctx kills the
	// sender's process group.
	Sync(ctx context.Context) (SyncInfo, error)
	// Settle waits, after a killed Sync and a restored link, until the
	// receiving side has let go of the killed session.
	Settle(ctx context.Context) error
	// Stop ends what Start started.
	Stop() error
}

// Env is what contenders share within a preset.
type Env struct {
	Link     *Link
	Src      string   // the source tree the next Sync pushes (host path)
	Work     string   // a private scratch directory per contender
	Critical []string // ferry --critical patterns for the critical files
	Bin      Binaries
	// Via, if set, is the address the sender must connect to instead of
	// the destination namespace's own address (the lossy preset's proxy,
	// for contenders that speak UDP). ListenLocal then tells the server to
	// listen on 127.0.0.1 in the destination namespace.
	Via         string
	ListenLocal bool
	Logf        func(string, ...any)
	Log         func(name string) string // path of a log file for name
}

// Binaries are the programs built from the checkout.
type Binaries struct {
	Ferry, Netsim string
	Commit        string
}

// ContenderNames lists the contenders NewContender knows, in table order.
var ContenderNames = []string{"ferry", "rsync", "rsync-z", "rsync-nopartial"}

// LargeOnly reports whether the contender called name runs only on the
// large-file set: rsync without --partial differs from rsync only in what
// it keeps of a file cut short, which the main data set's small files
// hardly show.
func LargeOnly(name string) bool { return name == "rsync-nopartial" }

// NewContender returns the contender called name.
func NewContender(name string) (Contender, error) {
	switch name {
	case "ferry":
		return &Ferry{}, nil
	case "rsync":
		return &Rsync{name: "rsync", port: 2201, partial: true}, nil
	case "rsync-z":
		return &Rsync{name: "rsync-z", port: 2202, partial: true, compress: true}, nil
	case "rsync-nopartial":
		return &Rsync{name: "rsync-nopartial", port: 2203}, nil
	}
	return nil, fmt.Errorf("unknown contender %q (want one of %s)", name, strings.Join(ContenderNames, ", "))
}
