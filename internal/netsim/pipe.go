package netsim

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Stream constants for the PCG generators, so that each direction and each
// use draws from its own sequence of the same seed.
const (
	streamLoss   = 0x6c6f7373 // "loss"
	streamJitter = 0x6a697474 // "jitt"
)

// pipe is one direction of the proxy: admission (loss, blackout, rate,
// queue, delay) on arrival, and a heap of admitted datagrams that its
// scheduler goroutine delivers (see scheduler.go).
type pipe struct {
	dir       Dir
	stats     counters
	cut       func(time.Time) bool         // blackout test; nil means never
	send      func(*session, []byte) error // writes one datagram
	onDeliver func(Dir, int, time.Time)    // optional
	wake      chan struct{}                // cap 1: the heap head changed

	mu          sync.Mutex
	link        Link
	loss        *rand.Rand
	jitter      *rand.Rand
	lastDepart  time.Time // when the bottleneck finishes its backlog
	lastDeliver time.Time
	seq         uint64
	inflight    packetHeap // admitted, by delivery time
}

// packet is an admitted datagram waiting for its delivery time.
type packet struct {
	at  time.Time
	seq uint64 // arrival order, breaks ties in at
	b   []byte
	to  *session
}

func newPipe(dir Dir, link Link, seed uint64) *pipe {
	d := uint64(dir) << 32
	return &pipe{
		dir:    dir,
		link:   link,
		loss:   rand.New(rand.NewPCG(seed, streamLoss|d)),
		jitter: rand.New(rand.NewPCG(seed, streamJitter|d)),
		wake:   make(chan struct{}, 1),
	}
}

func (p *pipe) setLink(l Link) {
	p.mu.Lock()
	p.link = l
	p.mu.Unlock()
}

func (p *pipe) getLink() Link {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.link
}

// verdict is the outcome of admit.
type verdict int

const (
	admitted verdict = iota
	droppedLoss
	droppedBlackout
	droppedQueue
)

// push runs the admission pipeline for a datagram received at now, counts
// it, and queues it for delivery if admitted. It never blocks on I/O. The
// pipe takes ownership of b.
func (p *pipe) push(now time.Time, b []byte, to *session) verdict {
	p.stats.packets.Add(1)
	p.stats.bytes.Add(uint64(len(b)))

	p.mu.Lock()
	at, v := p.admit(now, len(b))
	head := false
	if v == admitted {
		p.seq++
		p.inflight.push(packet{at: at, seq: p.seq, b: b, to: to})
		head = p.inflight.peek().seq == p.seq
	}
	p.mu.Unlock()

	switch v {
	case droppedLoss:
		p.stats.lost.Add(1)
	case droppedBlackout:
		p.stats.blackouts.Add(1)
	case droppedQueue:
		p.stats.queueDrops.Add(1)
	}
	if head {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return v
}

// admit decides the fate of an n-byte datagram arriving at now and, if it
// is admitted, returns its delivery time. It is the whole impairment model
// and does no I/O; p.mu must be held.
func (p *pipe) admit(now time.Time, n int) (time.Time, verdict) {
	l := p.link
	// One draw per datagram, always, so the loss decisions of a seed are a
	// fixed sequence indexed by arrival order.
	if p.loss.Float64() < l.Loss {
		return time.Time{}, droppedLoss
	}
	if p.cut != nil && p.cut(now) {
		return time.Time{}, droppedBlackout
	}

	depart := now
	if l.Rate > 0 {
		start := now
		if p.lastDepart.After(now) {
			start = p.lastDepart
		}
		if backlog := start.Sub(now); backlog > 0 {
			// Bytes still waiting at the bottleneck, in float64 so that
			// long backlogs at high rates cannot overflow.
			waiting := backlog.Seconds() * float64(l.Rate)
			if limit := l.queueLimit(); limit >= 0 && waiting+float64(n) > float64(limit) {
				return time.Time{}, droppedQueue
			}
		}
		depart = start.Add(txTime(int64(n), l.Rate))
		p.lastDepart = depart
	}

	at := depart.Add(l.Delay)
	if l.Jitter > 0 {
		at = at.Add(time.Duration(p.jitter.Int64N(int64(l.Jitter))))
	}
	if !l.Reorder && at.Before(p.lastDeliver) {
		at = p.lastDeliver
	}
	if at.After(p.lastDeliver) {
		p.lastDeliver = at
	}
	return at, admitted
}

// txTime returns how long n bytes take to serialize at rate bytes/s.
func txTime(n, rate int64) time.Duration {
	// n is one datagram (< 64 KiB), so n·1e9 cannot overflow.
	return time.Duration(n * int64(time.Second) / rate)
}
