package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/bwlimit"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/internal/netsim"
	"github.com/ferrysync/ferry/transfer"
)

// TestBandwidthCapSmooth sends through the impairment proxy with a cap and
// checks, from the bytes the proxy delivered per 100 ms, that every
// one-second window once running stays within 10% of the cap (plus QUIC's
// framing), with no bursts followed by sleeps.
func TestBandwidthCapSmooth(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 4 s")
	}
	const capRate = 512 << 10 // bytes/s
	src := t.TempDir()
	build(t, src, []node{{path: "media/clip.bin", size: 2 << 20}})
	dev, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	h := startHub(t, map[identity.ID]string{dev.ID: "edge"})
	var mu sync.Mutex
	var start time.Time
	buckets := make(map[int]int) // 100 ms window → bytes up
	p, err := netsim.New(netsim.Config{Upstream: h.addr, OnDeliver: func(d netsim.Dir, n int, at time.Time) {
		if d != netsim.Up {
			return
		}
		mu.Lock()
		if start.IsZero() {
			start = at
		}
		buckets[int(at.Sub(start)/(100*time.Millisecond))] += n
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go p.Serve(ctx)
	t.Cleanup(func() { cancel(); p.Close() })

	sched, err := bwlimit.ParseSchedule("512k")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sendOpt(t, agent.Options{Source: src, BWLimit: sched, Compress: transfer.CompressNever},
		agent.QUIC(p.Addr().String(), dev.ClientConfig(h.id.ID), 0))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	last := 0
	for w := range buckets {
		last = max(last, w)
	}
	// 2 MiB at 512 KiB/s take 4 s; much less means the cap did not hold,
	// and the windows below would be too few to judge.
	if last < 30 {
		t.Fatalf("2 MiB went through in %d00 ms under a %d B/s cap", last, capRate)
	}
	// Skip the first second (handshake, empty bucket) and the last
	// (the tail of the file).
	for w := 10; w+10 <= last-10; w++ {
		sum := 0
		for i := w; i < w+10; i++ {
			sum += buckets[i]
		}
		if lo, hi := 0.9*capRate, 1.1*capRate*1.05; float64(sum) < lo || float64(sum) > hi {
			t.Errorf("1 s window from %.1fs carried %d bytes, want %d ± 10%% (+5%% for QUIC)", float64(w)/10, sum, capRate)
		}
	}
	t.Logf("%d bytes in %v through a %d B/s cap", rep.WireBytes, rep.Elapsed, capRate)
}
