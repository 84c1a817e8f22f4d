package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/ferrysync/ferry/internal/bwlimit"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/prioritize"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// Options configures a sync. The zero value of every field but Source works.
type Options struct {
	// Source is the directory to send.
	Source string
	// Rules order the plan and exclude entries.
	Rules prioritize.Rules
	// ChunkSize is the payload of one chunk. If zero, it adapts to the
	// link's rate (see transfer.SenderConfig).
	ChunkSize int
	// Compress says when chunks are compressed (default: when it pays).
	Compress transfer.Compress
	// CacheFile keeps file hashes between runs. If empty, every file is
	// read again each run.
	CacheFile string
	// Probe, if set, asks the hub before connecting whether it already
	// holds the plan, and keeps the key that makes that possible.
	Probe *HubProbe
	// Retry says how a sync that lost its connection tries again. The zero
	// value makes one attempt.
	Retry Backoff
	// BWLimit caps the bytes this side writes, by a weekly schedule. If
	// nil, there is no cap.
	BWLimit *bwlimit.Schedule
	// CriticalRate, if set, is the least cap while critical files are
	// sent, even in a paused window of BWLimit.
	CriticalRate bwlimit.Rate
	// Events, if set, receives the session's progress from one goroutine.
	Events func(transfer.Event)
	// Warn, if set, is told about entries the scan skipped.
	Warn func(path string, err error)
	// Logger, if set, receives diagnostics.
	Logger *slog.Logger
}

// Conn is a connection to a receiver carrying one session.
type Conn struct {
	Stream io.ReadWriteCloser
	// WireBytes returns the bytes that crossed the link both ways so far.
	WireBytes func() int64
	// SentBytes, if set, returns the bytes sent on the link so far,
	// retransmissions included; its rate sizes adaptive chunks.
	SentBytes func() int64
	// LostBytes, if set, returns the bytes the link lost so far (and were
	// sent again).
	LostBytes func() int64
	// Close ends the connection; err, if set, is the reason given.
	Close func(err error)
}

// Connect opens a connection to a receiver.
type Connect func(ctx context.Context, hint Hint) (*Conn, error)

// Hint tells a Connect what the session is likely to carry.
type Hint struct {
	// Bytes is how many file bytes the sender expects to send: the sizes
	// of the files whose hashes it does not have cached (new or changed).
	Bytes int64
}

// mtuProbeBytes is the least a session should expect to send for path MTU
// discovery's probes (about 10 KB) to pay for themselves: larger packets
// save about 1% of what is sent.
const mtuProbeBytes = 4 << 20

// QUIC returns a Connect that dials a receiver at addr. idle is the QUIC
// idle timeout; if zero, transfer.DefaultIdleTimeout.
func QUIC(addr string, tlsConf *tls.Config, idle time.Duration) Connect {
	return func(ctx context.Context, hint Hint) (*Conn, error) {
		cfg := transfer.DialConfig{Idle: idle, NoMTUProbe: hint.Bytes < mtuProbeBytes}
		conf, settle := identity.ForDial(tlsConf)
		conn, stream, err := transfer.DialWith(ctx, addr, conf, cfg)
		if err != nil {
			return nil, err
		}
		go func() {
			select {
			case <-conn.HandshakeComplete():
				settle(conn.ConnectionState().TLS.DidResume)
			case <-conn.Context().Done():
			}
		}()
		return &Conn{
			Stream: stream,
			WireBytes: func() int64 {
				st := conn.ConnectionStats()
				return int64(st.BytesSent + st.BytesReceived)
			},
			SentBytes: func() int64 { return int64(conn.ConnectionStats().BytesSent) },
			LostBytes: func() int64 { return int64(conn.ConnectionStats().BytesLost) },
			Close:     func(err error) { transfer.Finish(conn, err) },
		}, nil
	}
}

// Report is the outcome of a sync, over all its attempts.
type Report struct {
	Files     int // files and symlinks in the plan
	FilesSent int
	// Offered counts the entries offered one by one over all attempts;
	// entries a summary showed unchanged are not offered.
	Offered      int
	PayloadBytes int64 // file bytes sent
	DataBytes    int64 // the same after compression
	WireBytes    int64
	LostBytes    int64 // of WireBytes, lost on the link and sent again
	Attempts     int
	// Probed says the hub answered a probe that it already held the
	// plan: the run made no connection (Attempts is 0).
	Probed  bool
	Elapsed time.Duration
	// CriticalElapsed is the time from the start until the last critical
	// file was durable on the receiver; zero if the plan had none.
	CriticalElapsed time.Duration
	Failed          []transfer.FileError
	Committed       transfer.Committed
}

// ErrNothingCommitted is returned, joined with the cause, when a sync ended
// without a restore point.
var ErrNothingCommitted = errors.New("agent: nothing committed")

// Scan builds the plan for opt.Source.
func Scan(ctx context.Context, opt Options) (prioritize.Plan, error) {
	entries, err := scan.Tree(ctx, opt.Source, scan.Options{Exclude: opt.Rules.Excludes(), Warn: opt.Warn})
	if err != nil {
		return prioritize.Plan{}, err
	}
	return prioritize.Order(entries, opt.Rules)
}

// Send syncs plan over connections from connect until a restore point is
// committed, retrying after connection failures as opt.Retry allows; each
// attempt resumes where the receiver's journal says. start is when the run
// began (for the elapsed times in the report).
func Send(ctx context.Context, start time.Time, plan prioritize.Plan, opt Options, connect Connect) (Report, error) {
	rep := Report{Files: len(plan.Items)}
	root, err := os.OpenRoot(opt.Source)
	if err != nil {
		return rep, fmt.Errorf("open source: %w", err)
	}
	defer root.Close()
	cache, err := scan.OpenCache(opt.CacheFile)
	if err != nil && opt.Logger != nil {
		opt.Logger.Warn("hash cache unusable, starting empty", "file", opt.CacheFile, "err", err)
	}
	// Keep every scanned entry's hash in the cache even if this run ends
	// before reaching it, and count what is new or changed.
	var hint Hint
	for i := range plan.Items {
		if _, ok := cache.Lookup(plan.Items[i].Entry); !ok && plan.Items[i].Kind == scan.File {
			hint.Bytes += plan.Items[i].Size
		}
	}
	defer func() {
		if err := cache.Save(); err != nil && opt.Logger != nil {
			opt.Logger.Warn("save hash cache", "file", opt.CacheFile, "err", err)
		}
	}()
	src := &dirSource{root: root, hasher: &scan.Hasher{Root: opt.Source, Cache: cache}}
	if opt.Events == nil {
		opt.Events = func(transfer.Event) {}
	}
	if opt.Probe != nil && probe(ctx, start, plan, src, opt, &rep) {
		return rep, nil
	}
	var meter atomic.Pointer[rateMeter] // the current connection's
	var lim atomic.Pointer[limitedStream]
	events := opt.Events
	s := transfer.NewSender(transfer.SenderConfig{
		ChunkSize: opt.ChunkSize, Compress: opt.Compress,
		Events: func(e transfer.Event) {
			if l := lim.Load(); l != nil && e.Kind == transfer.EventStart {
				l.w.SetPriority(e.Item.Class == prioritize.Critical)
			}
			events(e)
		},
		LinkRate: func() float64 {
			if m := meter.Load(); m != nil {
				return m.Rate()
			}
			return -1 // a connection without a byte counter: no link
		},
	})

	// Failures in a row (without progress) and when the streak began: they
	// drive the back-off and --retry-for.
	var failures int
	var firstFailure time.Time
	for {
		rep.Attempts++
		res, err := attempt(ctx, s, plan, src, connect, hint, &meter, &lim, opt, &rep)
		rep.Elapsed = time.Since(start)
		rep.FilesSent += res.FilesSent
		rep.Offered += res.Entries
		rep.PayloadBytes += res.PayloadBytes
		rep.DataBytes += res.DataBytes
		if !res.CriticalDone.IsZero() && rep.CriticalElapsed == 0 {
			rep.CriticalElapsed = res.CriticalDone.Sub(start)
		}
		if err == nil {
			rep.Failed, rep.Committed = res.Failed, res.Committed
			if opt.Probe != nil {
				keepProbeKey(opt, res.Committed)
			}
			return rep, nil
		}
		var re *transfer.RemoteError
		if res.FilesSent > 0 || res.Unchanged > 0 || (res.PayloadBytes > 0 && !errors.As(err, &re)) {
			// The attempt made progress: the link works, and the next
			// failure starts a new streak of back-off.
			failures, firstFailure = 0, time.Time{}
		}
		failures++
		if firstFailure.IsZero() {
			firstFailure = time.Now()
		}
		wait, retry := opt.Retry.next(failures, time.Since(firstFailure))
		if !retry || !Retryable(err) || ctx.Err() != nil {
			return rep, errors.Join(ErrNothingCommitted, err)
		}
		if opt.Logger != nil {
			opt.Logger.Warn("connection lost, retrying", "attempt", rep.Attempts, "in", wait.Round(time.Millisecond), "err", err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return rep, errors.Join(ErrNothingCommitted, err, context.Cause(ctx))
		}
	}
}

// attempt runs one session on a new connection.
func attempt(ctx context.Context, s *transfer.Sender, plan prioritize.Plan, src transfer.Source, connect Connect, hint Hint,
	meter *atomic.Pointer[rateMeter], lim *atomic.Pointer[limitedStream], opt Options, rep *Report) (transfer.Result, error) {
	conn, err := connect(ctx, hint)
	if err != nil {
		return transfer.Result{}, err
	}
	stream := conn.Stream
	if opt.BWLimit != nil || opt.CriticalRate != 0 {
		l := limit(ctx, stream, bwlimit.Config{Schedule: opt.BWLimit, Floor: opt.CriticalRate})
		l.w.SetPriority(len(plan.Items) > 0 && plan.Items[0].Class == prioritize.Critical)
		lim.Store(l)
		stream = l
	}
	if conn.SentBytes != nil {
		meter.Store(newRateMeter(conn.SentBytes))
	} else {
		meter.Store(nil)
	}
	res, err := s.Send(ctx, stream, plan, src)
	rep.WireBytes += conn.WireBytes()
	if conn.LostBytes != nil {
		rep.LostBytes += conn.LostBytes()
	}
	conn.Close(err)
	return res, err
}
