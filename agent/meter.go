package agent

import (
	"sync"
	"time"
)

// rateMeter turns a growing byte counter into a rate over the last second
// or so, for the adaptive chunk size.
type rateMeter struct {
	mu     sync.Mutex
	count  func() int64
	t0, t1 time.Time
	n0, n1 int64
	rate   float64
}

func newRateMeter(count func() int64) *rateMeter {
	now := time.Now()
	n := count()
	return &rateMeter{count: count, t0: now, t1: now, n0: n, n1: n}
}

// Rate returns bytes per second over the last 0.5–1 s (over what there is
// after the first 100 ms); 0 until known.
func (m *rateMeter) Rate() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	n := m.count()
	if now.Sub(m.t1) >= 500*time.Millisecond {
		// Slide: the window now starts where the last one ended.
		m.t0, m.n0, m.t1, m.n1 = m.t1, m.n1, now, n
	}
	// A first estimate after 100 ms: until then chunks stay small.
	if d := now.Sub(m.t0).Seconds(); d >= 0.1 {
		m.rate = float64(n-m.n0) / d
	}
	return m.rate
}
