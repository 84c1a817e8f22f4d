package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ferrysync/ferry/internal/netsim"
	"github.com/spf13/pflag"
)

// parseArgs parses the command line. On -h/--help it prints the usage to
// stdout and returns pflag.ErrHelp; other errors are usageErrors.
func parseArgs(args []string, stdout io.Writer) (options, error) {
	var (
		o                      options
		rate, upRate, downRate rateFlag
		queue                  queueFlag
		delay, jitter          time.Duration
		loss                   float64
		reorder                bool
		blackouts              []string
	)
	fs := pflag.NewFlagSet("ferry-netsim", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard) // errors are returned, help goes to stdout
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "UDP `ADDR` clients send to (port 0 picks a free port)")
	fs.StringVar(&o.upstream, "upstream", "", "UDP `ADDR` of the server (required)")
	fs.Var(&rate, "rate", "bandwidth limit of both directions, e.g. 2mbit, 256kbit, 1MB (default unlimited; units below)")
	fs.Var(&upRate, "up-rate", "bandwidth limit client to server (default --rate)")
	fs.Var(&downRate, "down-rate", "bandwidth limit server to client (default --rate)")
	fs.DurationVar(&delay, "delay", 0, "one-way delay added in each direction (RTT grows by twice this)")
	fs.DurationVar(&jitter, "jitter", 0, "extra one-way delay, uniform in [0, jitter); order is kept unless --reorder")
	fs.BoolVar(&reorder, "reorder", false, "let jitter reorder datagrams")
	fs.Float64Var(&loss, "loss", 0, "probability in [0, 1] that a datagram is dropped, each direction")
	fs.Var(&queue, "queue", "bottleneck queue per direction, e.g. 64KiB; beyond it datagrams are tail-dropped; \"unlimited\" for none (default max(64KiB, rate × 100ms))")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the loss and jitter generators; the same seed drops the same datagrams")
	fs.StringArrayVar(&blackouts, "blackout", nil, "cut the link both ways: `AT+FOR` is the offset from start and the length, e.g. 10s+5s (repeatable)")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log each new client session")
	fs.Usage = func() {
		fmt.Fprint(stdout, usageHead, fs.FlagUsagesWrapped(80), usageTail)
	}

	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return o, err
		}
		return o, usageError{err}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if o.upstream == "" {
		return o, usageError{fmt.Errorf("--upstream is required")}
	}
	if loss < 0 || loss > 1 {
		return o, usageError{fmt.Errorf("--loss %v: want a probability in [0, 1]", loss)}
	}
	if delay < 0 || jitter < 0 {
		return o, usageError{fmt.Errorf("--delay and --jitter must not be negative")}
	}
	for _, s := range blackouts {
		b, err := parseBlackout(s)
		if err != nil {
			return o, usageError{err}
		}
		o.blackouts = append(o.blackouts, b)
	}

	link := netsim.Link{Delay: delay, Jitter: jitter, Loss: loss, QueueBytes: int(queue), Reorder: reorder}
	o.up, o.down = link, link
	o.up.Rate, o.down.Rate = int64(rate), int64(rate)
	if fs.Changed("up-rate") {
		o.up.Rate = int64(upRate)
	}
	if fs.Changed("down-rate") {
		o.down.Rate = int64(downRate)
	}
	return o, nil
}

// parseBlackout parses "AT+FOR", e.g. "10s+5s".
func parseBlackout(s string) (netsim.Blackout, error) {
	at, dur, ok := strings.Cut(s, "+")
	if !ok {
		return netsim.Blackout{}, fmt.Errorf("--blackout %q: want AT+FOR, e.g. 10s+5s", s)
	}
	var b netsim.Blackout
	var err error
	if b.At, err = time.ParseDuration(at); err != nil || b.At < 0 {
		return b, fmt.Errorf("--blackout %q: bad start %q", s, at)
	}
	if b.For, err = time.ParseDuration(dur); err != nil || b.For <= 0 {
		return b, fmt.Errorf("--blackout %q: bad length %q", s, dur)
	}
	return b, nil
}

// rateFlag is a bandwidth in bytes per second, parsed by netsim.ParseRate.
type rateFlag int64

var _ pflag.Value = (*rateFlag)(nil)

func (r *rateFlag) String() string {
	if *r == 0 {
		return "" // unset; the usage text names the default
	}
	return netsim.FormatRate(int64(*r))
}
func (r *rateFlag) Type() string { return "RATE" }
func (r *rateFlag) Set(s string) error {
	v, err := netsim.ParseRate(s)
	*r = rateFlag(v)
	return err
}

// queueFlag is a byte count parsed by netsim.ParseSize, or -1 for
// "unlimited".
type queueFlag int

var _ pflag.Value = (*queueFlag)(nil)

func (q *queueFlag) String() string {
	switch {
	case *q < 0:
		return "unlimited"
	case *q == 0:
		return "" // the default, described in the usage
	}
	return fmt.Sprint(int(*q))
}
func (q *queueFlag) Type() string { return "SIZE" }
func (q *queueFlag) Set(s string) error {
	if strings.EqualFold(s, "unlimited") {
		*q = -1
		return nil
	}
	v, err := netsim.ParseSize(s)
	if err != nil {
		return err
	}
	if v > 1<<31-1 {
		return fmt.Errorf("%s is too large", s)
	}
	*q = queueFlag(v)
	return nil
}
