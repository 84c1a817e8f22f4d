package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/bwlimit"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/transfer"
)

const sendUsage = `Usage: ferry send SRC DEST [rules] [options]

Pushes the tree SRC to DEST in priority order: critical files first, then
normal, then bulk; within a class smallest first. DEST is a local directory
(synced through an in-process receiver) or HOST:PORT of a hub started with
'ferry serve', which needs --hub-id.

A run ends by committing a manifest on the receiver, a restore point.
Exit codes: 0 complete restore point committed; 1 nothing committed;
2 usage error; 3 restore point committed without some entries (listed);
130 interrupted.
`

func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("send", sendUsage, stderr)
	rf := addRuleFlags(fs)
	hubID := fs.String("hub-id", "", "the hub's identity `ID` (required for HOST:PORT)")
	chunk := fs.String("chunk-size", "auto", "chunk `SIZE`: bytes per checked chunk (16KiB to 8MiB), or auto: about 1.5 s of the link's rate")
	bwlimitFlag := fs.String("bwlimit", "off", "cap the send rate: a `RATE` (256k = 256 KiB/s, 2mbit) or a weekly schedule (see README); off = no cap, 0 = paused")
	criticalRate := fs.String("critical-rate", "", "least `RATE` for critical files, even while --bwlimit pauses")
	compress := fs.String("compress", "auto", "compress chunks with zstd: auto (when it pays), always or never (`MODE`)")
	asJSON := fs.Bool("json", false, "write NDJSON events to stdout (see README)")
	progress := fs.String("progress", "auto", "progress on stderr: auto (when a terminal), always or never (`MODE`)")
	verbose := fs.BoolP("verbose", "v", false, "print one line per file as it becomes durable")
	retryFor := fs.Duration("retry-for", 24*time.Hour, "keep reconnecting after a lost connection for `DURATION` (0: one attempt)")
	timeout := fs.Duration("timeout", transfer.DefaultIdleTimeout, "give up a connection after `DURATION` without any packet")
	checkpoint := fs.Duration("checkpoint-every", 10*time.Minute, "local DEST only: commit a checkpoint manifest this often (`DURATION`; 0 disables)")
	state := stateFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("send takes SRC and DEST, got %d arguments", fs.NArg())
	}
	src, dest := fs.Arg(0), fs.Arg(1)
	if err := checkSource(src); err != nil {
		return err
	}
	chunkSize := 0 // auto
	if *chunk != "auto" {
		n, err := parseSize(*chunk)
		if err != nil || n < 16<<10 || n > transfer.MaxChunkSize {
			return usagef("--chunk-size %q: want auto or a size from 16KiB to 8MiB", *chunk)
		}
		chunkSize = int(n)
	}
	sched, err := bwlimit.ParseSchedule(*bwlimitFlag)
	if err != nil {
		return usagef("--bwlimit: %v", err)
	}
	var floor bwlimit.Rate
	if *criticalRate != "" {
		if floor, err = bwlimit.ParseRate(*criticalRate); err != nil {
			return usagef("--critical-rate: %v", err)
		}
	}
	compressMode, err := transfer.ParseCompress(*compress)
	if err != nil {
		return usagef("--compress: %v", err)
	}
	showProgress, err := progressMode(*progress, stderr)
	if err != nil {
		return err
	}
	rules, err := rf.rules()
	if err != nil {
		return err
	}
	stateRoot, err := stateDir(*state)
	if err != nil {
		return err
	}

	var connect agent.Connect
	var probe *agent.HubProbe
	remote := isRemote(dest)
	switch {
	case remote && *hubID == "":
		return usagef("sending to %s needs --hub-id (run 'ferry id' on the hub)", dest)
	case remote:
		want, err := identity.ParseID(*hubID)
		if err != nil {
			return usagef("--hub-id: %v", err)
		}
		me, _, err := loadIdentity(stateRoot)
		if err != nil {
			return err
		}
		conf := me.ClientConfig(want)
		// The hub's ticket lets the next run resume in fewer bytes.
		conf.ClientSessionCache = &identity.Tickets{File: filepath.Join(stateRoot, "tickets", want.String())}
		connect = agent.QUIC(dest, conf, *timeout)
		// An unchanged tree is settled by one datagram each way.
		probe = &agent.HubProbe{Addr: dest, File: filepath.Join(stateRoot, "probe", want.String())}
	default:
		every := *checkpoint
		if every == 0 {
			every = -1
		}
		connect = localReceiver(dest, receiver.Options{CheckpointEvery: every})
	}

	out := newSendOutput(stdout, stderr, *asJSON, *verbose, showProgress)
	start := time.Now()
	opt := agent.Options{
		Source: src, Rules: rules, ChunkSize: chunkSize, Compress: compressMode, Events: out.event, Warn: warnTo(stderr),
		Retry: agent.Backoff{For: *retryFor}, Probe: probe,
		BWLimit: sched, CriticalRate: floor,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if cf, err := cacheFile(stateRoot, src); err == nil {
		opt.CacheFile = cf
	} else {
		fmt.Fprintf(stderr, "ferry: no hash cache: %v\n", err)
	}
	plan, err := agent.Scan(ctx, opt)
	if err != nil {
		return err
	}
	out.plan(plan)
	rep, err := agent.Send(ctx, start, plan, opt, connect)
	out.summary(rep, err)
	if agent.NotAdmitted(err) {
		return fmt.Errorf("the hub refused this device (is its ID %s in the hub's --allow?): %w", mustID(stateRoot), err)
	}
	if err != nil {
		return err
	}
	if len(rep.Failed) > 0 {
		var msgs []string
		for _, f := range rep.Failed {
			msgs = append(msgs, f.Error())
		}
		return fmt.Errorf("restore point %d committed without %d entries:\n  %s: %w",
			rep.Committed.Seq, len(rep.Failed), strings.Join(msgs, "\n  "), errPartial)
	}
	return nil
}

// isRemote tells a HOST:PORT destination from a local directory.
func isRemote(dest string) bool {
	if _, err := os.Stat(dest); err == nil {
		return false
	}
	host, port, err := net.SplitHostPort(dest)
	if err != nil || host == "" && !strings.HasPrefix(dest, ":") {
		return false
	}
	_, err = strconv.ParseUint(port, 10, 16)
	return err == nil
}

// localReceiver runs a receiver for dir in this process.
func localReceiver(dir string, opt receiver.Options) agent.Connect {
	return func(ctx context.Context, _ agent.Hint) (*agent.Conn, error) {
		c, err := receiver.Local(ctx, dir, opt)
		if err != nil {
			return nil, err
		}
		return &agent.Conn{Stream: c, WireBytes: c.Bytes, Close: func(error) { c.Close() }}, nil
	}
}

// parseSize parses a byte size such as 1MiB, 512k or 65536. Suffixes are
// binary (k = KiB).
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: %w", s, errors.New("not a byte size"))
	}
	return n * mult, nil
}

// mustID returns this machine's ID for a message, or a placeholder.
func mustID(state string) string {
	id, _, err := loadIdentity(state)
	if err != nil {
		return "(unknown)"
	}
	return id.ID.String()
}
