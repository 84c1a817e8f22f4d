package netsim

import (
	"encoding/binary"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestProxyDelay(t *testing.T) {
	const delay = 40 * time.Millisecond
	srv := startServer(t, true)
	p := startProxy(t, Config{Upstream: srv.addr(), Up: Link{Delay: delay}, Down: Link{Delay: delay}})
	c := dial(t, p)
	var rtts []time.Duration
	for i := range 10 {
		rtt, ok := ping(t, c, i, 5*time.Second)
		if !ok {
			t.Fatalf("ping %d: no echo", i)
		}
		rtts = append(rtts, rtt)
	}
	slices.Sort(rtts)
	if rtts[0] < 2*delay {
		t.Errorf("min RTT = %v, want >= %v", rtts[0], 2*delay)
	}
	if med := rtts[len(rtts)/2]; med > 2*delay+200*time.Millisecond {
		t.Errorf("median RTT = %v, want about %v", med, 2*delay)
	}
}

func TestProxyRate(t *testing.T) {
	const (
		rate = 1_000_000 // bytes/s
		size = 1000
		n    = 600 // 600 kB: 0.6 s on the link
	)
	srv := startServer(t, false)
	var (
		mu      sync.Mutex
		windows = map[int64]int{}
	)
	p := startProxy(t, Config{
		Upstream: srv.addr(),
		Up:       Link{Rate: rate, QueueBytes: -1},
		OnDeliver: func(d Dir, n int, at time.Time) {
			mu.Lock()
			windows[at.UnixNano()/int64(100*time.Millisecond)] += n
			mu.Unlock()
		},
	})
	c := dial(t, p)
	msg := make([]byte, size)
	start := time.Now()
	for range n {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, func() bool { return len(srv.received()) >= n })
	elapsed := time.Since(start)

	s := p.Stats().Up
	if s.Packets != n || s.Forwarded != n {
		t.Fatalf("up stats = %+v, want %d received and forwarded", s, n)
	}
	// Wall clock: delivered bytes over the time it took, as a fraction of
	// the rate. The limit must hold; the lower bound is loose because a
	// starved scheduler (a busy 2-core machine, -race) delivers late. The
	// exact schedule is checked on the virtual clock in pipe_test.go.
	ratio := float64(s.ForwardedBytes) / elapsed.Seconds() / rate
	t.Logf("delivered %d B in %v: %.3f of the rate", s.ForwardedBytes, elapsed, ratio)
	if ratio < 0.5 || ratio > 1.2 {
		t.Errorf("throughput = %.3f × rate, want 0.5–1.2 (about 1)", ratio)
	}
	// Emulated delivery times: the link is busy from the first datagram to
	// the last, so no 100 ms window carries more than the rate allows.
	mu.Lock()
	defer mu.Unlock()
	for w, b := range windows {
		if b > rate/10+size {
			t.Errorf("window %d carried %d B, want <= %d", w, b, rate/10+size)
		}
	}
}

func TestProxyLoss(t *testing.T) {
	const n = 2000
	run := func(seed uint64) (ids []int, s DirStats) {
		srv := startServer(t, false)
		p := startProxy(t, Config{Upstream: srv.addr(), Up: Link{Loss: 0.1}, Seed: seed})
		c := dial(t, p)
		for i := range n {
			c.Write(binary.BigEndian.AppendUint32(nil, uint32(i)))
			if i%50 == 49 {
				time.Sleep(time.Millisecond) // stay far from kernel buffer limits
			}
		}
		waitFor(t, 10*time.Second, func() bool {
			s := p.Stats().Up
			return s.Packets == n && s.Forwarded+s.Dropped() == n && len(srv.received()) == int(s.Forwarded)
		})
		for _, b := range srv.received() {
			ids = append(ids, int(binary.BigEndian.Uint32(b)))
		}
		sort.Ints(ids)
		return ids, p.Stats().Up
	}
	a, s := run(99)
	if got := float64(s.DroppedLoss) / n; got < 0.07 || got > 0.13 {
		t.Errorf("loss = %.3f, want 0.1 ± 0.03", got)
	}
	if int(s.Forwarded) != len(a) {
		t.Errorf("Forwarded = %d, server received %d", s.Forwarded, len(a))
	}
	if b, _ := run(99); !slices.Equal(a, b) {
		t.Errorf("same seed passed different datagrams: %d vs %d survivors", len(a), len(b))
	}
	if b, _ := run(100); slices.Equal(a, b) {
		t.Error("different seeds passed the same datagrams")
	}
}

func TestProxyQueueTailDrop(t *testing.T) {
	const n = 100
	srv := startServer(t, false)
	p := startProxy(t, Config{Upstream: srv.addr(), Up: Link{Rate: 100_000, QueueBytes: 10_000}})
	c := dial(t, p)
	msg := make([]byte, 1000)
	for range n {
		c.Write(msg)
	}
	waitFor(t, 10*time.Second, func() bool {
		s := p.Stats().Up
		return s.Packets == n && s.Forwarded+s.Dropped() == n
	})
	// Ten fit at once; a slow sender lets a few more drain meanwhile.
	s := p.Stats().Up
	if s.Forwarded < 10 || s.Forwarded > 40 || s.DroppedQueue != n-s.Forwarded {
		t.Errorf("up = %+v, want 10–40 forwarded and the rest tail-dropped", s)
	}
}

func TestProxyBlackout(t *testing.T) {
	srv := startServer(t, true)
	p := startProxy(t, Config{Upstream: srv.addr()})
	c := dial(t, p)
	if _, ok := ping(t, c, 1, 2*time.Second); !ok {
		t.Fatal("no echo before the blackout")
	}
	p.SetBlackout(true)
	for i := range 5 {
		if _, ok := ping(t, c, 100+i, 50*time.Millisecond); ok {
			t.Fatal("echo during the blackout")
		}
	}
	p.SetBlackout(false)
	if _, ok := ping(t, c, 2, 2*time.Second); !ok {
		t.Fatal("no echo after the blackout")
	}
	if s := p.Stats(); s.Up.DroppedBlackout != 5 {
		t.Errorf("up DroppedBlackout = %d, want 5", s.Up.DroppedBlackout)
	}
}

func TestProxyBlackoutDropsInFlight(t *testing.T) {
	// The echo spends 300 ms in the down pipe; cutting the link meanwhile
	// loses it, as a real cut loses what is on the wire.
	srv := startServer(t, true)
	p := startProxy(t, Config{Upstream: srv.addr(), Down: Link{Delay: 300 * time.Millisecond}})
	c := dial(t, p)
	c.Write([]byte("a"))
	waitFor(t, 2*time.Second, func() bool { return p.Stats().Down.Packets == 1 })
	p.SetBlackout(true)
	time.Sleep(500 * time.Millisecond)
	p.SetBlackout(false)
	if s := p.Stats().Down; s.Packets != 1 || s.DroppedBlackout != 1 || s.Forwarded != 0 {
		t.Errorf("down = %+v, want the in-flight echo dropped by the blackout", s)
	}
}

func TestProxyScheduledBlackout(t *testing.T) {
	srv := startServer(t, true)
	p := startProxy(t, Config{Upstream: srv.addr(), Blackouts: []Blackout{{At: 0, For: time.Second}}})
	c := dial(t, p)
	if _, ok := ping(t, c, 1, 100*time.Millisecond); ok {
		t.Fatal("echo during the scheduled blackout")
	}
	time.Sleep(time.Second)
	if _, ok := ping(t, c, 2, 2*time.Second); !ok {
		t.Fatal("no echo after the scheduled blackout")
	}
	if s := p.Stats(); s.Up.DroppedBlackout != 1 {
		t.Errorf("up DroppedBlackout = %d, want 1", s.Up.DroppedBlackout)
	}
}

func TestProxySetLink(t *testing.T) {
	srv := startServer(t, true)
	p := startProxy(t, Config{Upstream: srv.addr()})
	c := dial(t, p)
	p.SetLink(Up, Link{Loss: 1})
	if _, ok := ping(t, c, 1, 100*time.Millisecond); ok {
		t.Error("echo at 100% loss")
	}
	p.SetLink(Up, Link{Loss: 7, Rate: -5}) // clamped
	if got, want := p.Link(Up), (Link{Loss: 1}); got != want {
		t.Errorf("Link(Up) = %+v, want %+v", got, want)
	}
	p.SetLink(Up, Link{Delay: 60 * time.Millisecond})
	rtt, ok := ping(t, c, 2, 2*time.Second)
	if !ok || rtt < 60*time.Millisecond {
		t.Errorf("after SetLink: rtt %v, echo %v; want >= 60ms", rtt, ok)
	}
}
