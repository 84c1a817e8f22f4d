package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/transfer"
)

const serveUsage = `Usage: ferry serve --root DIR --listen ADDR --allow ID[=NAME]... [--state DIR]

Runs a hub: accepts syncs over QUIC from the listed identities only, each
into its own namespace DIR/NAME (NAME defaults to the ID). Stops on SIGINT or
SIGTERM.
`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", serveUsage, stderr)
	root := fs.String("root", "", "`DIR` holding one namespace per device (required)")
	listen := fs.String("listen", ":7077", "UDP `ADDR` to listen on")
	allow := fs.StringArray("allow", nil, "admit the sender `ID[=NAME]` into namespace NAME (repeatable)")
	verbose := fs.BoolP("verbose", "v", false, "log every placed file")
	timeout := fs.Duration("timeout", transfer.DefaultIdleTimeout, "drop a connection after `DURATION` without any packet")
	quota := fs.String("quota", "off", "most file bytes one namespace may hold: a `SIZE` such as 50GiB, or off")
	maxFile := fs.String("max-file-size", "1TiB", "refuse files larger than `SIZE`")
	minFree := fs.String("min-free", "256MiB", "refuse a file that would leave less than `SIZE` free on the hub's disk (0: check nothing)")
	maxEntries := fs.Int("max-entries", 10_000_000, "most entries one session may offer (`N`)")
	frameTimeout := fs.Duration("frame-timeout", 5*time.Minute, "end a session whose sender sends no whole frame for `DURATION`, and a connection that opens no stream for as long")
	handshakeTimeout := fs.Duration("handshake-timeout", transfer.DefaultHandshakeTimeout, "drop a handshake whose peer sends nothing for `DURATION` (at most --timeout); any handshake is dropped after twice this")
	maxHandshakes := fs.Int("max-handshakes", transfer.DefaultMaxHandshakes, "most connections held before their handshake completes (`N`); beyond half, new ones must answer a Retry first; beyond N, they are refused")
	maxConns := fs.Int("max-conns", receiver.DefaultMaxConns, "most connections served at once, all devices together (`N`)")
	maxConnsPerDevice := fs.Int("max-conns-per-device", receiver.DefaultMaxConnsPerDevice, "most connections one device may hold at once (`N`; a reconnect needs 2)")
	groupChunks := fs.Int("journal-group", 16, "journal chunks arriving back to back in groups of up to `N` (one fsync each; a crash re-sends at most one group per file); a chunk is journaled at once whenever the hub waits for the network")
	groupDelay := fs.Duration("journal-delay", 0, "also close a journal group after `DURATION` (0: by count only)")
	checkpoint := fs.Duration("checkpoint-every", 10*time.Minute, "commit a checkpoint manifest this often during a long session (`DURATION`; 0 disables)")
	state := stateFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("serve takes no arguments")
	}
	if *root == "" {
		return usagef("serve needs --root")
	}
	if len(*allow) == 0 {
		return usagef("serve needs at least one --allow ID (run 'ferry id' on each sender)")
	}
	allowed := make(map[identity.ID]string)
	names := make(map[string]bool)
	for _, a := range *allow {
		idText, name, _ := strings.Cut(a, "=")
		id, err := identity.ParseID(idText)
		if err != nil {
			return usagef("--allow %q: %v", a, err)
		}
		if name == "" {
			name = id.String()
		}
		if err := receiver.ValidNamespace(name); err != nil {
			return usagef("--allow %q: %v", a, err)
		}
		if names[name] {
			return usagef("--allow %q: namespace %q given twice", a, name)
		}
		names[name] = true
		allowed[id] = name
	}
	var limits receiver.Limits
	limits.MaxEntries = *maxEntries
	if *quota != "off" {
		q, err := parseSize(*quota)
		if err != nil || q <= 0 {
			return usagef("--quota %q: want a size such as 50GiB, or off", *quota)
		}
		limits.Quota = q
	}
	mf, err := parseSize(*maxFile)
	if err != nil || mf <= 0 {
		return usagef("--max-file-size %q: want a size such as 4GiB", *maxFile)
	}
	limits.MaxFileSize = mf
	if limits.MinFree, err = parseSize(*minFree); err != nil || limits.MinFree < 0 {
		return usagef("--min-free %q: want a size such as 1GiB, or 0", *minFree)
	}
	me, _, err := loadIdentity(*state)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	every := *checkpoint
	if every == 0 {
		every = -1
	}
	if *groupChunks < 1 {
		return usagef("--journal-group %d: want 1 or more", *groupChunks)
	}
	for _, f := range []struct {
		name string
		n    int
	}{{"max-handshakes", *maxHandshakes}, {"max-conns", *maxConns}, {"max-conns-per-device", *maxConnsPerDevice}} {
		if f.n < 1 {
			return usagef("--%s %d: want 1 or more", f.name, f.n)
		}
	}
	if *handshakeTimeout <= 0 {
		return usagef("--handshake-timeout %v: want a positive duration", *handshakeTimeout)
	}
	hub := &receiver.Hub{
		Root: *root, Allow: allowed, Logger: log, CheckpointEvery: every, Limits: limits, FrameTimeout: *frameTimeout,
		Group:    resume.Grouper{MaxChunks: *groupChunks, MaxDelay: *groupDelay},
		MaxConns: *maxConns, MaxConnsPerDevice: *maxConnsPerDevice,
	}
	var resetKey *quic.StatelessResetKey
	if k, ok := me.ResetKey(); ok {
		resetKey = (*quic.StatelessResetKey)(&k)
	}
	ln, err := transfer.ListenWith(*listen, me.ServerConfig(hub.Admit), transfer.ListenConfig{
		ResetKey: resetKey, Idle: *timeout, HandshakeTimeout: *handshakeTimeout,
		MaxHandshakes: *maxHandshakes, Logger: log,
	})
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Fprintf(stdout, "ferry hub %s listening on %s\n", me.ID, ln.Addr())
	return hub.Serve(ctx, ln)
}
