package netsim

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Dir is a direction through the proxy.
type Dir int

const (
	// Up is client to server.
	Up Dir = iota
	// Down is server to client.
	Down
)

func (d Dir) String() string {
	switch d {
	case Up:
		return "up"
	case Down:
		return "down"
	}
	return fmt.Sprintf("Dir(%d)", int(d))
}

// Link describes the impairments of one direction. The zero value is a
// perfect link: no loss, no rate limit, no delay.
type Link struct {
	// Rate is the bottleneck bandwidth in bytes of UDP payload per second.
	// If zero, the rate is unlimited and there is no queue.
	Rate int64
	// Delay is the minimum one-way delay added after the bottleneck.
	Delay time.Duration
	// Jitter adds a uniformly distributed extra delay in [0, Jitter).
	Jitter time.Duration
	// Loss is the probability in [0, 1] that a datagram is dropped.
	Loss float64
	// QueueBytes is the bottleneck buffer: a datagram that would make the
	// bytes waiting for serialization exceed it is dropped. It applies only
	// when Rate is set. If zero, defaults to max(64 KiB, Rate × 100 ms).
	// If negative, the queue is unbounded.
	QueueBytes int
	// Reorder lets jitter reorder datagrams. If false, a datagram is never
	// delivered before the one received ahead of it in the same direction.
	Reorder bool
}

// DefaultQueueBytes is the smallest default bottleneck buffer; see
// [Link.QueueBytes].
const DefaultQueueBytes = 64 << 10

// queueLimit returns the effective bottleneck buffer in bytes, or -1 for
// unbounded.
func (l Link) queueLimit() int64 {
	switch {
	case l.QueueBytes < 0:
		return -1
	case l.QueueBytes > 0:
		return int64(l.QueueBytes)
	}
	return max(DefaultQueueBytes, l.Rate/10)
}

func (l Link) validate() error {
	switch {
	case l.Rate < 0:
		return fmt.Errorf("rate %d is negative", l.Rate)
	case l.Delay < 0:
		return fmt.Errorf("delay %v is negative", l.Delay)
	case l.Jitter < 0:
		return fmt.Errorf("jitter %v is negative", l.Jitter)
	case !(l.Loss >= 0 && l.Loss <= 1): // also catches NaN
		return fmt.Errorf("loss %v is outside [0, 1]", l.Loss)
	}
	return nil
}

// clamped returns l with every out-of-range knob moved to the nearest valid
// value.
func (l Link) clamped() Link {
	l.Rate = max(l.Rate, 0)
	l.Delay = max(l.Delay, 0)
	l.Jitter = max(l.Jitter, 0)
	if math.IsNaN(l.Loss) {
		l.Loss = 0
	}
	l.Loss = min(max(l.Loss, 0), 1)
	return l
}

// Blackout is a scheduled period during which the proxy drops everything in
// both directions.
type Blackout struct {
	// At is when the blackout starts, relative to the start of Serve.
	At time.Duration
	// For is how long it lasts.
	For time.Duration
}

// Config configures a Proxy. Only Upstream is required.
type Config struct {
	// Listen is the UDP address clients send to. If empty, defaults to
	// "127.0.0.1:0" (an ephemeral port; see Proxy.Addr).
	Listen string
	// Upstream is the UDP address of the server.
	Upstream string
	// Up and Down impair each direction. Zero values are perfect links.
	Up, Down Link
	// Seed seeds the loss and jitter generators. Zero is a valid seed: runs
	// are reproducible unless the caller picks a random seed.
	Seed uint64
	// Blackouts are scheduled link cuts, relative to the start of Serve.
	Blackouts []Blackout
	// OnDeliver, if set, is called after each datagram is written, with its
	// direction, payload size and emulated delivery time. The write happens
	// at that time or a little after (timer slack, or longer when the
	// machine is busy), so byte counts per window of at describe the
	// emulated link and the sender, not the proxy's own stalls. It runs on
	// the scheduler goroutine of that direction and must return quickly.
	OnDeliver func(d Dir, n int, at time.Time)
	// Logger receives session and error events. If nil, nothing is logged.
	Logger *slog.Logger
}
