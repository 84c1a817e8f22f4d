package bwlimit

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// sink records when each write reached it and how long it was.
type sink struct {
	mu     sync.Mutex
	start  time.Time
	writes []stamp
}

type stamp struct {
	at time.Duration // since the sink was made
	n  int
}

func newSink() *sink { return &sink{start: time.Now()} }

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, stamp{time.Since(s.start), len(p)})
	return len(p), nil
}

// bytes returns the bytes that arrived in [from, to).
func (s *sink) bytes(from, to time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, w := range s.writes {
		if from <= w.at && w.at < to {
			n += w.n
		}
	}
	return n
}

func (s *sink) first() stamp {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.writes) == 0 {
		return stamp{at: -1}
	}
	return s.writes[0]
}

func (s *sink) largest() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := 0
	for _, w := range s.writes {
		m = max(m, w.n)
	}
	return m
}

// clockAt returns a Config.Now that reads t now and advances with the
// runtime clock (synctest's, inside a bubble).
func clockAt(t time.Time) func() time.Time {
	start := time.Now()
	return func() time.Time { return t.Add(time.Since(start)) }
}

// within reports whether got is within frac of want.
func within(got, want int, frac float64) bool {
	return float64(got) >= float64(want)*(1-frac) && float64(got) <= float64(want)*(1+frac)
}

// checkPace checks the bytes in every 100 ms window of [from, to), and in
// every 1 s window starting on a 50 ms step, against cap r.
func checkPace(t *testing.T, s *sink, r Rate, from, to time.Duration) {
	t.Helper()
	const win = 100 * time.Millisecond
	for at := from; at+win <= to; at += win {
		// One slice (50 ms of data) more or less than the mean.
		if got, want := s.bytes(at, at+win), int(r)/10; !within(got, want, 0.5) {
			t.Errorf("bytes in [%v, %v) = %d, want %d ± 50%%", at, at+win, got, want)
		}
	}
	for at := from; at+time.Second <= to; at += 50 * time.Millisecond {
		if got, want := s.bytes(at, at+time.Second), int(r); !within(got, want, 0.10) {
			t.Errorf("bytes in [%v, %v) = %d, want %d ± 10%%", at, at+time.Second, got, want)
		}
	}
}

func TestWriterPacesFixedCap(t *testing.T) {
	for _, r := range []Rate{32000, 256 << 10, 1 << 20, 3 << 19} {
		t.Run(r.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSink()
				sched := mustSchedule(t, r.String())
				w := NewWriter(t.Context(), s, Config{Schedule: sched})
				if got := w.Rate(); got != r {
					t.Errorf("Rate() = %v, want %v", got, r)
				}
				p := make([]byte, 3*int(r))
				n, err := w.Write(p)
				if n != len(p) || err != nil {
					t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(p))
				}
				if got, want := time.Since(s.start), 3*time.Second; got < want-time.Millisecond || got > want+50*time.Millisecond {
					t.Errorf("3 s of data took %v", got)
				}
				// The bucket starts empty: nothing is sent at once.
				if f := s.first(); f.at < 40*time.Millisecond {
					t.Errorf("first slice at %v, want ≥ 40ms (empty bucket)", f.at)
				}
				if got, want := s.largest(), r.burst(); got > want {
					t.Errorf("largest slice %d bytes, want ≤ burst %d", got, want)
				}
				checkPace(t, s, r, 0, 3*time.Second)
			})
		})
	}
}

func TestWriterSmallWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const r = 256 << 10
		s := newSink()
		w := NewWriter(t.Context(), s, Config{Schedule: mustSchedule(t, "256k")})
		buf := make([]byte, 1000)
		for i := 0; time.Since(s.start) < 3*time.Second; i++ {
			if i > 3*r/len(buf)*11/10 {
				t.Fatalf("%d writes of %d bytes in %v", i, len(buf), time.Since(s.start))
			}
			if _, err := w.Write(buf); err != nil {
				t.Fatal(err)
			}
		}
		checkPace(t, s, r, 0, 3*time.Second)
	})
}

func TestWriterScheduleChangeMidTransfer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSink()
		w := NewWriter(t.Context(), s, Config{
			Schedule: mustSchedule(t, "Mon-Fri 08:00-18:00 256k, 1M"),
			Now:      clockAt(week("Mon", "07:59").Add(58 * time.Second)),
		})
		if got := w.Rate(); got != 1<<20 {
			t.Errorf("Rate() before 08:00 = %v, want 1M", got)
		}
		// 2 s at 1 MiB/s, then 4 s at 256 KiB/s, in one Write.
		p := make([]byte, 3<<20)
		if n, err := w.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if got := w.Rate(); got != 256<<10 {
			t.Errorf("Rate() after 08:00 = %v, want 256k", got)
		}
		// The cap changes within one slice of the old rate (50 ms): from
		// then on, slices are cut to the new bucket.
		const change = 2*time.Second + 51*time.Millisecond
		for _, x := range s.writes {
			if x.at >= change && x.n > Rate(256<<10).burst() {
				t.Errorf("slice of %d bytes at %v, after the change to 256k", x.n, x.at)
			}
		}
		checkPace(t, s, 1<<20, 0, 2*time.Second)
		checkPace(t, s, 256<<10, change, 5800*time.Millisecond)
	})
}

func TestWriterPausedWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSink()
		w := NewWriter(t.Context(), s, Config{
			Schedule: mustSchedule(t, "Mon-Fri 08:00-18:00 0, 1M"),
			Now:      clockAt(week("Mon", "17:59").Add(50 * time.Second)),
		})
		if got := w.Rate(); got != Paused {
			t.Errorf("Rate() = %v, want 0", got)
		}
		p := make([]byte, 1<<20)
		if n, err := w.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		// Nothing before 18:00, 10 s in; then one empty bucket's wait.
		if f := s.first(); f.at < 10*time.Second+49*time.Millisecond || f.at > 10*time.Second+50*time.Millisecond {
			t.Errorf("first slice at %v, want 10.05s", f.at)
		}
		if got, want := time.Since(s.start), 11*time.Second; got < want-time.Millisecond || got > want+50*time.Millisecond {
			t.Errorf("Write returned after %v, want about %v", got, want)
		}
		checkPace(t, s, 1<<20, 10*time.Second, 11*time.Second)
	})
}

func TestWriterPauseOverWeekend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSink()
		start := week("Fri", "18:00")
		now := clockAt(start)
		w := NewWriter(t.Context(), s, Config{Schedule: mustSchedule(t, "Mon-Fri 08:00-18:00 1M, 0"), Now: now})
		if _, err := w.Write(make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		resume := week("Mon", "08:00").AddDate(0, 0, 7)
		if got, want := s.first().at, resume.Sub(start); got < want || got > want+50*time.Millisecond {
			t.Errorf("first write %v after Friday 18:00, want %v", got, want)
		}
	})
}

func TestWriterFloor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSink()
		w := NewWriter(t.Context(), s, Config{
			Schedule: mustSchedule(t, "Mon-Fri 08:00-18:00 0, 1M"),
			Floor:    64 << 10,
			Now:      clockAt(week("Mon", "17:59").Add(50 * time.Second)),
		})
		if got := w.Rate(); got != Paused {
			t.Errorf("Rate() without priority = %v, want 0", got)
		}
		w.SetPriority(true)
		if got := w.Rate(); got != 64<<10 {
			t.Errorf("Rate() with priority = %v, want 64k", got)
		}
		// 10 s at the floor, then 1 s at 1M, which is above the floor.
		p := make([]byte, 640<<10+1<<20)
		if n, err := w.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		checkPace(t, s, 64<<10, 0, 10*time.Second)
		checkPace(t, s, 1<<20, 10*time.Second+50*time.Millisecond, 11*time.Second)
	})
}

func TestWriterSetPriorityWakesPausedWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSink()
		w := NewWriter(t.Context(), s, Config{Schedule: mustSchedule(t, "0"), Floor: 64 << 10})
		done := make(chan error)
		go func() {
			_, err := w.Write(make([]byte, 128<<10))
			done <- err
		}()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if f := s.first(); f.at >= 0 {
			t.Fatalf("wrote at %v while paused", f.at)
		}
		if got := w.Rate(); got != Paused { // while Write waits
			t.Errorf("Rate() = %v, want 0", got)
		}
		w.SetPriority(true)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got, want := time.Since(s.start), 7*time.Second; got < want-time.Millisecond || got > want+50*time.Millisecond {
			t.Errorf("Write returned after %v, want about %v", got, want)
		}
		if f := s.first(); f.at < 5*time.Second {
			t.Errorf("first write at %v, before the priority was set", f.at)
		}
	})
}

func TestWriterCancelUnblocksPausedWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		s := newSink()
		w := NewWriter(ctx, s, Config{Schedule: mustSchedule(t, "0"), Floor: 64 << 10})
		type result struct {
			n   int
			err error
		}
		done := make(chan result)
		go func() {
			n, err := w.Write(make([]byte, 1000))
			done <- result{n, err}
		}()
		time.Sleep(time.Hour)
		synctest.Wait()
		cancel()
		if r := <-done; r.n != 0 || !errors.Is(r.err, context.Canceled) {
			t.Errorf("Write = %d, %v; want 0, context.Canceled", r.n, r.err)
		}
		// Once ctx has ended, nothing is written, even with a floor.
		w.SetPriority(true)
		if n, err := w.Write([]byte("x")); n != 0 || !errors.Is(err, context.Canceled) {
			t.Errorf("Write after cancel = %d, %v; want 0, context.Canceled", n, err)
		}
		if f := s.first(); f.at >= 0 {
			t.Errorf("wrote at %v", f.at)
		}
	})
}

func TestWriterDeadlineWhilePaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
		defer cancel()
		s := newSink()
		w := NewWriter(ctx, s, Config{Schedule: mustSchedule(t, "1k")})
		n, err := w.Write(make([]byte, 10<<10))
		// Slices of 1 KiB leave at 1 s and 2 s; the deadline ends the wait
		// for the third.
		if n != 2<<10 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Write = %d, %v; want %d, context.DeadlineExceeded", n, err, 2<<10)
		}
		if got := time.Since(s.start); got != 2500*time.Millisecond {
			t.Errorf("Write returned after %v, want 2.5s (at the deadline)", got)
		}
	})
}

func TestWriterUnlimitedPassesThrough(t *testing.T) {
	for _, cfg := range []struct {
		name  string
		sched *Schedule
	}{{"nil", nil}, {"off", mustSchedule(t, "off")}, {"no rule matches", mustSchedule(t, "Mon 08:00-08:01 1k")}} {
		t.Run(cfg.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSink()
				w := NewWriter(t.Context(), s, Config{Schedule: cfg.sched, Now: clockAt(week("Tue", "12:00"))})
				if got := w.Rate(); got != Unlimited {
					t.Errorf("Rate() = %v, want off", got)
				}
				p := make([]byte, 64<<20)
				if n, err := w.Write(p); n != len(p) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
				if len(s.writes) != 1 || s.writes[0].n != len(p) || s.writes[0].at != 0 {
					t.Errorf("writes = %v, want one of %d bytes at once", s.writes, len(p))
				}
			})
		})
	}
}

func TestWriterRate(t *testing.T) {
	tests := []struct {
		name     string
		sched    string
		floor    Rate
		priority bool
		want     Rate
	}{
		{"cap", "1M", 0, false, 1 << 20},
		{"cap, priority, no floor", "1M", 0, true, 1 << 20},
		{"floor below cap", "1M", 64 << 10, true, 1 << 20},
		{"floor above cap", "64k", 1 << 20, true, 1 << 20},
		{"floor unused without priority", "0", 1 << 20, false, Paused},
		{"floor in pause", "0", 1 << 20, true, 1 << 20},
		{"unlimited floor", "0", Unlimited, true, Unlimited},
		{"unlimited schedule", "off", 1 << 20, true, Unlimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(t.Context(), io.Discard, Config{Schedule: mustSchedule(t, tt.sched), Floor: tt.floor})
			w.SetPriority(tt.priority)
			if got := w.Rate(); got != tt.want {
				t.Errorf("Rate() = %v, want %v", got, tt.want)
			}
		})
	}
}

type failWriter struct {
	n   int
	err error
}

func (f failWriter) Write(p []byte) (int, error) { return min(f.n, len(p)), f.err }

func TestWriterUnderlyingErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		sched := mustSchedule(t, "1M")
		w := NewWriter(t.Context(), failWriter{n: 10, err: boom}, Config{Schedule: sched})
		if n, err := w.Write(make([]byte, 100)); n != 10 || err != boom {
			t.Errorf("Write = %d, %v; want 10, boom", n, err)
		}
		w = NewWriter(t.Context(), failWriter{n: 10}, Config{Schedule: sched})
		if n, err := w.Write(make([]byte, 100)); n != 10 || err != io.ErrShortWrite {
			t.Errorf("Write = %d, %v; want 10, io.ErrShortWrite", n, err)
		}
	})
}

// TestWriterRealClock runs on the real clock, to catch what synctest's
// exact timers hide. It takes about 0.75 s. Faster than the cap fails at
// once; slower is retried twice, since a busy machine that deschedules the
// writer for longer than one bucket (50 ms) loses that time for good.
func TestWriterRealClock(t *testing.T) {
	const r = 1 << 20
	for attempt := 1; ; attempt++ {
		got := measureRealRate(t, "1M", 3*r/4)
		t.Logf("attempt %d: achieved %.0f bytes/s, %.1f%% of the cap", attempt, got, 100*got/r)
		switch {
		case got > r*1.15:
			t.Fatalf("achieved %.0f bytes/s, want at most %d + 15%%", got, r)
		case got >= r*0.85:
			return
		case attempt == 3:
			t.Fatalf("achieved %.0f bytes/s, want at least %d - 15%%", got, r)
		}
	}
}

// measureRealRate writes at least n bytes, 32 KiB at a time, through a
// Writer on schedule sched, and returns the rate achieved.
func measureRealRate(t *testing.T, sched string, n int) float64 {
	var c countWriter
	w := NewWriter(t.Context(), &c, Config{Schedule: mustSchedule(t, sched)})
	chunk := make([]byte, 32<<10)
	start := time.Now()
	for c.n < n {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	return float64(c.n) / time.Since(start).Seconds()
}

type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }
