package bwlimit

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a Writer. The zero value is unlimited.
type Config struct {
	// Schedule sets the cap by weekday and time of day. If nil, writes
	// are unlimited.
	Schedule *Schedule

	// Floor is the least cap while the priority set by SetPriority is on,
	// even in a Paused window (ferry's --critical-rate), so critical bytes
	// still flow. Unlimited lifts the cap for them altogether. If zero,
	// there is no floor.
	Floor Rate

	// Now reports the time at which the schedule is read. If nil, defaults
	// to time.Now. Pacing itself runs on the runtime clock, so a
	// replacement must advance with it: it exists to put tests at a given
	// weekday and hour (an offset or a time zone on top of time.Now, or of
	// testing/synctest's clock).
	Now func() time.Time
}

// maxPauseWait bounds one wait for the end of a Paused window. The wait is
// computed from the wall clock but runs on the monotonic one, which a
// suspended laptop or a stepped clock leaves behind; re-reading the wall
// clock every minute (the schedule's resolution) bounds the error.
const maxPauseWait = time.Minute

// A Writer paces the writes to an underlying writer to the cap of a
// schedule. Its token bucket refills at the cap, holds 50 ms of data (at
// least 1 KiB), and starts empty; each Write is cut into slices no larger
// than the bucket, and the cap is re-read before every slice, so a change of
// schedule takes effect within one slice.
//
// Write calls are serialized; SetPriority and Rate may be called from any
// goroutine.
type Writer struct {
	// ctx bounds every wait. It is stored, against house style, because
	// io.Writer's Write has no context parameter; it is the lifetime of
	// the stream being written.
	ctx      context.Context
	w        io.Writer
	sched    *Schedule
	floor    Rate
	now      func() time.Time
	priority atomic.Bool
	kick     chan struct{} // wakes a paused Write when the priority changes

	mu    sync.Mutex    // serializes Write; guards lim and limit
	lim   *rate.Limiter // nil when not pacing (Unlimited, Paused, not started)
	limit Rate          // the cap lim is set to
}

var _ io.Writer = (*Writer)(nil)

// NewWriter returns a Writer that writes to w at the caps of cfg. ctx bounds
// every wait: once it ends, Write returns ctx.Err().
func NewWriter(ctx context.Context, w io.Writer, cfg Config) *Writer {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Writer{
		ctx:   ctx,
		w:     w,
		sched: cfg.Schedule,
		floor: cfg.Floor,
		now:   now,
		kick:  make(chan struct{}, 1),
	}
}

// SetPriority says whether the bytes now being written are critical, so
// that the Floor applies to them. A Write waiting out a Paused window wakes
// up to re-read the cap.
func (w *Writer) SetPriority(on bool) {
	if w.priority.Swap(on) != on {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// Rate returns the cap in force now: the schedule's, raised to the floor
// while the priority is on.
func (w *Writer) Rate() Rate {
	return w.capAt(w.now())
}

func (w *Writer) capAt(t time.Time) Rate {
	r := w.sched.At(t)
	if w.floor != 0 && w.priority.Load() {
		switch {
		case r < 0 || w.floor < 0:
			r = Unlimited
		default:
			r = max(r, w.floor)
		}
	}
	return r
}

// Write writes p to the underlying writer at the cap in force, waiting out
// Paused windows. It returns early with ctx's error if ctx ends, having
// written n < len(p) bytes.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for n < len(p) {
		if err := w.ctx.Err(); err != nil {
			return n, err
		}
		now := w.now()
		r := w.capAt(now)
		switch {
		case r < 0:
			w.lim = nil
			m, err := w.w.Write(p[n:])
			return n + m, err
		case r == Paused:
			w.lim = nil
			if err := w.pause(now); err != nil {
				return n, err
			}
			continue
		}
		size := min(len(p)-n, w.pace(r))
		if err := w.take(size); err != nil {
			return n, err
		}
		m, err := w.w.Write(p[n : n+size])
		n += m
		if err == nil && m < size {
			err = io.ErrShortWrite
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// pace sets the limiter to cap r and returns the largest slice to write.
// A limiter is made afresh, with an empty bucket, whenever pacing starts:
// at the first write and after a Paused or Unlimited spell, so no burst
// follows them.
func (w *Writer) pace(r Rate) int {
	b := r.burst()
	switch {
	case w.lim == nil:
		w.lim = rate.NewLimiter(rate.Limit(r), b)
		w.lim.AllowN(time.Now(), b)
	case r != w.limit:
		now := time.Now()
		w.lim.SetLimitAt(now, rate.Limit(r))
		w.lim.SetBurstAt(now, b)
	}
	w.limit = r
	return b
}

var errOverBurst = errors.New("bwlimit: slice larger than the bucket")

// take waits, with ctx, until n bytes may be sent.
func (w *Writer) take(n int) error {
	now := time.Now()
	res := w.lim.ReserveN(now, n)
	if !res.OK() {
		return errOverBurst // a bug: slices are cut to the burst
	}
	d := res.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-w.ctx.Done():
		res.Cancel()
		return w.ctx.Err()
	}
}

// pause waits until the schedule may change, the priority changes, or ctx
// ends, whichever is first.
func (w *Writer) pause(now time.Time) error {
	d := maxPauseWait
	if next := w.sched.Next(now); !next.IsZero() {
		d = min(d, next.Sub(now))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.kick:
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
	return nil
}
