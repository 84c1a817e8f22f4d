package crashtest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/netsim"
)

// upTrigger counts the bytes the proxy delivers to the hub and closes fired
// once they reach at: a point in the sync measured on the link itself.
type upTrigger struct {
	at    int64
	n     atomic.Int64
	once  sync.Once
	fired chan struct{}
}

func newUpTrigger(at int64) *upTrigger { return &upTrigger{at: at, fired: make(chan struct{})} }

func (u *upTrigger) deliver(d netsim.Dir, n int, _ time.Time) {
	if d == netsim.Up && u.n.Add(int64(n)) >= u.at {
		u.once.Do(func() { close(u.fired) })
	}
}

// bigFileTree is a critical state file and one bulk file of size random
// bytes.
func bigFileTree(t *testing.T, size int64) *tree {
	rng := testRand(t)
	return makeTree(t, rng, treeSpec{critical: 1, bulk: []int64{size}})
}

// cutRun syncs src through a link of rate bytes/s, blacks the link out for
// cut once about half of src crossed it, and returns the finished sender
// and when the link was cut and restored.
func cutRun(t *testing.T, src *tree, rate int64, timeout string, cut time.Duration) (r *rig, snd *sender, cutAt, restoredAt time.Time) {
	t.Helper()
	trig := newUpTrigger(src.bytes / 2)
	r = newRig(t, src, rigConfig{rate: rate, timeout: timeout, onDeliver: trig.deliver})
	dumpOnFailure(t, r.hub, func() *sender { return snd })
	snd = startSender(t, r.sendArgs)
	select {
	case <-trig.fired:
	case <-snd.proc.done:
		t.Fatal("the sender finished before half of the tree crossed the link")
	case <-time.After(2 * time.Minute):
		t.Fatal("half of the tree did not cross the link within 2 minutes")
	}
	r.proxy.SetBlackout(true)
	cutAt = time.Now()
	time.Sleep(cut) // the blackout itself: nothing to poll for
	r.proxy.SetBlackout(false)
	restoredAt = time.Now()
	return r, snd, cutAt, restoredAt
}

// TestBlackoutReconnect cuts the link for 10 s in the middle of a 32 MiB
// file, longer than the 3 s idle timeout of both ends: the connection dies,
// the sender reconnects by itself in the same run, resumes the file from
// the receiver's journal and commits, re-sending at most one chunk plus
// the in-flight window.
func TestBlackoutReconnect(t *testing.T) {
	src := bigFileTree(t, 32<<20)
	r, snd, cutAt, restoredAt := cutRun(t, src, 8_000_000, "3s", 10*time.Second)
	sum := snd.finish(t, 2*time.Minute)
	src.checkSame(t, r.hub.ns)
	src.checkFinalManifest(t, r.hub.ns)
	evs := snd.events(t)
	checkNoResend(t, evs)

	if snd.errs.count("connection lost") == 0 {
		t.Errorf("the sender never lost its connection: the blackout did not outlast the idle timeout")
	}
	resumed, ok := firstResume(evs)
	if !ok {
		t.Errorf("no file_start with an offset: the big file was not resumed")
	}
	resent := sum.PayloadBytes - src.bytes
	t.Logf("cut %.1fs after start for %v; resumed at offset %d, %.2fs after the link came back; re-sent %s (%.2f chunks); %d sessions",
		cutAt.Sub(snd.started).Seconds(), restoredAt.Sub(cutAt).Round(time.Millisecond), resumed.Offset,
		resumed.at.Sub(restoredAt).Seconds(), kib(resent), float64(resent)/chunkSize, r.hub.sessions())
	if resent < 0 {
		t.Errorf("payload %d for a %d-byte tree", sum.PayloadBytes, src.bytes)
	}
	checkResent(t, resent, 1, 8_000_000)
}

// TestBlackoutRideOut cuts the link for 2 s with a 10 s idle timeout:
// QUIC rides it out on the same connection and nothing is sent twice.
//
// On a loaded machine this process may not wake up from the 2 s for far
// longer (a 2 s sleep once took 15.7 s while other jobs saturated both
// cores and the disk); then the blackout really did outlast the idle
// timeout and proves nothing, so the run is repeated once, and skipped if
// that overruns too.
func TestBlackoutRideOut(t *testing.T) {
	const cut = 2 * time.Second
	src := bigFileTree(t, 32<<20)
	var (
		r                 *rig
		snd               *sender
		cutAt, restoredAt time.Time
	)
	for try := 1; ; try++ {
		r, snd, cutAt, restoredAt = cutRun(t, src, 8_000_000, "10s", cut)
		got := restoredAt.Sub(cutAt)
		if got < cut+3*time.Second {
			break
		}
		if try == 2 {
			t.Skipf("the machine is too loaded: a %v blackout lasted %v twice", cut, got)
		}
		t.Logf("the machine stalled: a %v blackout lasted %v; once more", cut, got)
		snd.proc.kill()
		r.hub.proc.stop(10 * time.Second)
	}
	sum := snd.finish(t, 2*time.Minute)
	src.checkSame(t, r.hub.ns)
	src.checkFinalManifest(t, r.hub.ns)
	if n := snd.errs.count("connection lost"); n != 0 {
		t.Errorf("the sender lost its connection %d times in a blackout shorter than its idle timeout", n)
	}
	if n := r.hub.sessions(); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
	if sum.PayloadBytes != src.bytes {
		t.Errorf("payload %d bytes for a %d-byte tree, want nothing sent twice", sum.PayloadBytes, src.bytes)
	}
	t.Logf("cut %.1fs after start for %v; run took %.1fs; payload %d = tree %d",
		cutAt.Sub(snd.started).Seconds(), restoredAt.Sub(cutAt).Round(time.Millisecond), sum.Seconds, sum.PayloadBytes, src.bytes)
}

// firstResume returns the first file_start that resumed at an offset.
func firstResume(evs []event) (event, bool) {
	for _, e := range evs {
		if e.Event == "file_start" && e.Offset > 0 {
			return e, true
		}
	}
	return event{}, false
}
