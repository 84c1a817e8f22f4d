package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ferrysync/ferry/internal/netsim"
	"github.com/spf13/pflag"
)

// usageError is a problem with the command line; main exits 2 for it.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

const usageHead = `Usage: ferry-netsim --upstream ADDR [flags]

Relay UDP between clients and one upstream server over an emulated link.
Each client address gets its own upstream socket, so many clients and QUIC
connections can share the relay. The listen address is printed to stdout,
one line, as soon as it is bound; counters go to stderr on SIGINT/SIGTERM.

Per direction, every datagram goes through: loss, bandwidth limit (with a
tail-drop queue), then delay plus jitter. Blackouts drop everything both ways.

Flags:
`

const usageTail = `
Rates: kbit, mbit, gbit are bits per second ("2mbit" = 250000 bytes/s);
B, KB, MB, GB (x1000) and KiB, MiB, GiB (x1024) are bytes per second, as is
a bare number; "0" or "off" means unlimited. "500k" and "2mbps" are refused
as ambiguous.

Example: a 2 Mbit/s satellite-like hop with 600 ms RTT, 1% loss and a
5 s cut ten seconds in:

  ferry-netsim --upstream 127.0.0.1:4433 --rate 2mbit --delay 300ms \
      --jitter 20ms --loss 0.01 --blackout 10s+5s
`

// options are the parsed command line.
type options struct {
	listen, upstream string
	up, down         netsim.Link
	seed             uint64
	blackouts        []netsim.Blackout
	verbose          bool
}

// run parses args, serves until ctx ends, and reports the counters.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseArgs(args, stdout)
	if errors.Is(err, pflag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}

	level := slog.LevelInfo
	if opts.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	p, err := netsim.New(netsim.Config{
		Listen:    opts.listen,
		Upstream:  opts.upstream,
		Up:        opts.up,
		Down:      opts.down,
		Seed:      opts.seed,
		Blackouts: opts.blackouts,
		Logger:    log,
	})
	if err != nil {
		return err
	}
	defer p.Close()

	if _, err := fmt.Fprintln(stdout, p.Addr()); err != nil {
		return fmt.Errorf("print listen address: %w", err)
	}
	log.Info("relaying", "listen", p.Addr(), "upstream", opts.upstream,
		"up", describe(opts.up), "down", describe(opts.down),
		"seed", opts.seed, "blackouts", len(opts.blackouts))

	start := time.Now()
	serveErr := p.Serve(ctx)
	logStats(log, p.Stats(), time.Since(start))
	return errors.Join(serveErr, p.Close())
}

func describe(l netsim.Link) string {
	q := "default"
	switch {
	case l.QueueBytes < 0:
		q = "unlimited"
	case l.QueueBytes > 0:
		q = fmt.Sprint(l.QueueBytes, "B")
	}
	return fmt.Sprintf("rate=%s queue=%s delay=%v jitter=%v loss=%g reorder=%v",
		netsim.FormatRate(l.Rate), q, l.Delay, l.Jitter, l.Loss, l.Reorder)
}

func logStats(log *slog.Logger, s netsim.Stats, elapsed time.Duration) {
	log.Info("stats", "elapsed", elapsed.Round(time.Millisecond), "sessions", s.Sessions)
	for _, d := range []struct {
		dir netsim.Dir
		s   netsim.DirStats
	}{{netsim.Up, s.Up}, {netsim.Down, s.Down}} {
		log.Info("stats", "dir", d.dir,
			"packets", d.s.Packets, "bytes", d.s.Bytes,
			"forwarded", d.s.Forwarded, "forwarded_bytes", d.s.ForwardedBytes,
			"dropped_loss", d.s.DroppedLoss, "dropped_queue", d.s.DroppedQueue,
			"dropped_blackout", d.s.DroppedBlackout, "errors", d.s.Errors)
	}
}
