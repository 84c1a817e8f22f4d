package netsim

import (
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// delivery is one datagram written by a test pipe.
type delivery struct {
	id int
	at time.Time
}

// testPipe is a pipe whose writes are recorded instead of sent.
type testPipe struct {
	*pipe
	mu  sync.Mutex
	got []delivery
}

// startPipe starts a pipe and its scheduler in the current synctest
// bubble; the scheduler stops when the test ends.
func startPipe(t *testing.T, l Link, seed uint64) *testPipe {
	t.Helper()
	tp := &testPipe{pipe: newPipe(Up, l, seed)}
	tp.send = func(_ *session, b []byte) error {
		tp.mu.Lock()
		tp.got = append(tp.got, delivery{id: int(binary.BigEndian.Uint32(b)), at: time.Now()})
		tp.mu.Unlock()
		return nil
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { tp.run(done) })
	t.Cleanup(func() { close(done); wg.Wait() })
	return tp
}

// send pushes datagram id of n bytes now.
func (tp *testPipe) sendN(id, n int) verdict {
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, uint32(id))
	return tp.push(time.Now(), b, nil)
}

func (tp *testPipe) deliveries() []delivery {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return slices.Clone(tp.got)
}

func TestPipeRateAndDelaySchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			rate  = 1_000_000 // 1 MB/s: a 1000-byte datagram takes 1 ms
			delay = 50 * time.Millisecond
			n     = 200
		)
		tp := startPipe(t, Link{Rate: rate, Delay: delay, QueueBytes: -1}, 1)
		t0 := time.Now()
		for i := range n {
			tp.sendN(i, 1000)
		}
		time.Sleep(time.Second)

		got := tp.deliveries()
		if len(got) != n {
			t.Fatalf("delivered %d datagrams, want %d", len(got), n)
		}
		for i, d := range got {
			want := t0.Add(delay + time.Duration(i+1)*time.Millisecond)
			if d.id != i || !d.at.Equal(want) {
				t.Fatalf("delivery %d = id %d at %v, want id %d at %v", i, d.id, d.at.Sub(t0), i, want.Sub(t0))
			}
		}
		s := tp.stats.snapshot()
		if s.Forwarded != n || s.ForwardedBytes != n*1000 || s.Dropped() != 0 {
			t.Errorf("stats = %+v, want %d forwarded, none dropped", s, n)
		}
	})
}

func TestPipeRateSmoothInWindows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A sender that offers 3× the link rate in bursts: the link still
		// delivers exactly its rate in every 100 ms window.
		const rate = 250_000 // 2 mbit
		tp := startPipe(t, Link{Rate: rate, QueueBytes: -1}, 1)
		t0 := time.Now()
		for burst := range 10 {
			for i := range 60 {
				tp.sendN(burst*60+i, 1250)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(3 * time.Second)

		windows := make(map[int]int)
		for _, d := range tp.deliveries() {
			windows[int(d.at.Sub(t0)/(100*time.Millisecond))] += 1250
		}
		// 600 × 1250 B at 250 kB/s = 3 s: windows 0..29 are full.
		for w := range 30 {
			// A datagram that ends exactly on a window edge counts in the
			// next window, so window 0 is one datagram short.
			want := rate / 10
			if w == 0 {
				want -= 1250
			}
			if windows[w] != want && !(w == 29 && windows[w]+windows[30] == rate/10) {
				t.Errorf("window %d carried %d bytes, want %d", w, windows[w], want)
			}
		}
	})
}

func TestPipeQueueTailDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 100 kB/s and a 10 kB queue: ten 1000-byte datagrams fit.
		tp := startPipe(t, Link{Rate: 100_000, QueueBytes: 10_000}, 1)
		var admittedIDs []int
		for i := range 30 {
			if tp.sendN(i, 1000) == admitted {
				admittedIDs = append(admittedIDs, i)
			}
		}
		if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(admittedIDs, want) {
			t.Errorf("admitted %v, want %v", admittedIDs, want)
		}
		// After 50 ms, five datagrams have left: five more fit.
		time.Sleep(50 * time.Millisecond)
		admittedIDs = nil
		for i := 100; i < 110; i++ {
			if tp.sendN(i, 1000) == admitted {
				admittedIDs = append(admittedIDs, i)
			}
		}
		if want := []int{100, 101, 102, 103, 104}; !slices.Equal(admittedIDs, want) {
			t.Errorf("after draining 50 ms, admitted %v, want %v", admittedIDs, want)
		}
		time.Sleep(time.Second)
		s := tp.stats.snapshot()
		if s.Packets != 40 || s.Forwarded != 15 || s.DroppedQueue != 25 {
			t.Errorf("stats = %+v, want 40 received, 15 forwarded, 25 queue drops", s)
		}
	})
}

func TestPipeDefaultQueue(t *testing.T) {
	for _, tt := range []struct {
		link Link
		want int64
	}{
		{Link{Rate: 250_000}, DefaultQueueBytes},
		{Link{Rate: 10_000_000}, 1_000_000},
		{Link{Rate: 250_000, QueueBytes: 1000}, 1000},
		{Link{Rate: 250_000, QueueBytes: -1}, -1},
	} {
		if got := tt.link.queueLimit(); got != tt.want {
			t.Errorf("%+v.queueLimit() = %d, want %d", tt.link, got, tt.want)
		}
	}
}

// lossPattern returns the indices of the datagrams a fresh pipe drops.
func lossPattern(dir Dir, seed uint64, loss float64, n int) []int {
	p := newPipe(dir, Link{Loss: loss}, seed)
	var dropped []int
	now := time.Now()
	for i := range n {
		if p.push(now, []byte{1}, nil) == droppedLoss {
			dropped = append(dropped, i)
		}
	}
	return dropped
}

func TestLossDeterministic(t *testing.T) {
	const n = 20_000
	a := lossPattern(Up, 42, 0.05, n)
	if got := float64(len(a)) / n; got < 0.04 || got > 0.06 {
		t.Errorf("loss rate = %.4f, want 0.05 ± 0.01", got)
	}
	if b := lossPattern(Up, 42, 0.05, n); !slices.Equal(a, b) {
		t.Error("same seed dropped different datagrams")
	}
	if b := lossPattern(Up, 43, 0.05, n); slices.Equal(a, b) {
		t.Error("seeds 42 and 43 dropped the same datagrams")
	}
	if b := lossPattern(Down, 42, 0.05, n); slices.Equal(a, b) {
		t.Error("up and down dropped the same datagrams")
	}
	// One draw per datagram: a higher loss drops a superset.
	more := lossPattern(Up, 42, 0.2, n)
	for _, i := range a {
		if _, ok := slices.BinarySearch(more, i); !ok {
			t.Fatalf("datagram %d dropped at 5%% loss but not at 20%%", i)
		}
	}
}

func TestPipeJitter(t *testing.T) {
	const (
		delay  = 10 * time.Millisecond
		jitter = 20 * time.Millisecond
		n      = 300
	)
	for _, reorder := range []bool{false, true} {
		name := map[bool]string{false: "ordered", true: "reorder"}[reorder]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tp := startPipe(t, Link{Delay: delay, Jitter: jitter, Reorder: reorder}, 7)
				t0 := time.Now()
				for i := range n {
					tp.sendN(i, 100)
					time.Sleep(time.Millisecond)
				}
				time.Sleep(time.Second)
				got := tp.deliveries()
				if len(got) != n {
					t.Fatalf("delivered %d, want %d", len(got), n)
				}
				inversions := 0
				for i, d := range got {
					sent := t0.Add(time.Duration(d.id) * time.Millisecond)
					if lat := d.at.Sub(sent); lat < delay || lat >= delay+jitter {
						t.Errorf("datagram %d took %v, want [%v, %v)", d.id, lat, delay, delay+jitter)
					}
					if i > 0 && d.id < got[i-1].id {
						inversions++
					}
				}
				switch {
				case !reorder && inversions > 0:
					t.Errorf("%d reordered deliveries without Reorder", inversions)
				case reorder && inversions == 0:
					t.Error("jitter 2× the spacing reordered nothing with Reorder set")
				}
			})
		})
	}
}

func TestPipeSetLinkAtRuntime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp := startPipe(t, Link{Rate: 1_000_000, QueueBytes: -1}, 1)
		t0 := time.Now()
		tp.sendN(0, 1000) // leaves at 1 ms
		tp.setLink(Link{Rate: 500_000, Delay: 5 * time.Millisecond, QueueBytes: -1})
		tp.sendN(1, 1000) // starts at 1 ms, takes 2 ms, then 5 ms delay
		time.Sleep(time.Second)
		got := tp.deliveries()
		want := []time.Duration{time.Millisecond, 8 * time.Millisecond}
		for i, d := range got {
			if d.at.Sub(t0) != want[i] {
				t.Errorf("datagram %d delivered at %v, want %v", d.id, d.at.Sub(t0), want[i])
			}
		}
	})
}

func TestPipeBlackoutDropsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp := startPipe(t, Link{Delay: 100 * time.Millisecond}, 1)
		var cut cutSwitch
		tp.cut = cut.active
		tp.sendN(0, 100)
		time.Sleep(50 * time.Millisecond)
		cut.manual.Store(true)
		tp.sendN(1, 100) // dropped on arrival
		time.Sleep(100 * time.Millisecond)
		cut.manual.Store(false)
		tp.sendN(2, 100)
		time.Sleep(200 * time.Millisecond)

		got := tp.deliveries()
		if len(got) != 1 || got[0].id != 2 {
			t.Errorf("delivered %v, want only datagram 2", got)
		}
		if s := tp.stats.snapshot(); s.DroppedBlackout != 2 {
			t.Errorf("DroppedBlackout = %d, want 2 (one in flight, one on arrival)", s.DroppedBlackout)
		}
	})
}
