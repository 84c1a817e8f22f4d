package crashtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// reconnectTimeout bounds how long a sender may take to start a new
// session once the hub it lost is back: the old connection is reset by the
// restarted hub at its next packet, then the sender backs off (1 s with
// jitter after a connection that worked) and dials again. Generous for a
// busy 2-core machine, where a process can stall for seconds.
const reconnectTimeout = 30 * time.Second

// TestReceiverKilled SIGKILLs the hub at random moments of a sync and
// restarts it on the same port with the same root and state. After each
// kill, with the hub down, no file at a final path may be partial or wrong
// and the restore point HEAD names must be intact. The one sender run must
// then finish by itself with the tree and a complete manifest equal to the
// source, having re-sent at most one chunk plus the in-flight window per
// kill.
func TestReceiverKilled(t *testing.T) {
	n := kills(t)
	rng := testRand(t)
	src := crashTree(t, rng, n)
	r := newRig(t, src, rigConfig{rate: crashRate, timeout: "3s"})
	var snd *sender
	dumpOnFailure(t, r.hub, func() *sender { return snd })
	t.Logf("tree: %d files, %d directories, %s; link %d MB/s", len(src.files), len(src.dirs), mib(src.bytes), crashRate/1_000_000)

	start := time.Now()
	snd = startSender(t, r.sendArgs)
	var (
		killed, early int
		gaps          []time.Duration // hub restarted → the sender's next session
		seen          int             // sessions started so far
		heads         []uint64        // HEAD at each kill
		restarted     time.Time
	)
	for killed < n {
		var delay time.Duration
		if killed > 0 && rng.IntN(5) == 0 {
			// Some kills do not wait for the sender: they land in the
			// recovery of the namespace (run when the sender connects),
			// in the handshake, or before the sender is back.
			early++
			delay = time.Duration(rng.Int64N(int64(1500 * time.Millisecond)))
		} else {
			if !r.hub.waitSession(seen, reconnectTimeout, snd.proc.done) {
				if snd.proc.exited() {
					break
				}
				t.Fatalf("after kill %d the sender did not start a new session within %v of the hub's restart "+
					"(reconnect gaps so far: %v; the sender's back-off waits: %v)",
					killed, reconnectTimeout, gaps, retryWaits(snd))
			}
			if killed > 0 {
				gaps = append(gaps, time.Since(restarted).Round(time.Millisecond))
			}
			delay = killDelay(rng)
		}
		select {
		case <-time.After(delay):
		case <-snd.proc.done:
		}
		if snd.proc.exited() {
			break
		}
		r.hub.kill()
		killed++
		seen = r.hub.sessions()

		heads = append(heads, src.checkCrashed(t, r.hub.ns, fmt.Sprintf("after hub kill %d", killed)))
		if t.Failed() {
			t.FailNow()
		}
		r.hub.start()
		restarted = time.Now()
	}
	sum := snd.finish(t, 3*time.Minute)
	elapsed := time.Since(start)
	if killed < n {
		t.Errorf("the sync finished after %d kills, want %d: the tree is too small for the link", killed, n)
	}
	src.checkSame(t, r.hub.ns)
	src.checkFinalManifest(t, r.hub.ns)
	evs := snd.events(t)
	checkNoResend(t, evs)

	resent := sum.PayloadBytes - src.bytes
	t.Logf("%d kills (%d without waiting for a session) in %.1fs; HEAD at each kill %v", killed, early, elapsed.Seconds(), heads)
	t.Logf("reconnect after restart: median %v, max %v (all: %v)", median(gaps), slices.Max(append(gaps, 0)), gaps)
	t.Logf("payload %d bytes for a %d-byte tree: re-sent %s, %s per kill (%.2f chunks), resumed files %d",
		sum.PayloadBytes, src.bytes, kib(resent), kib(resent/int64(max(killed, 1))),
		float64(resent)/float64(max(killed, 1))/chunkSize, countResumed(evs))
	if resent < 0 {
		t.Errorf("payload_bytes %d is less than the tree's %d bytes", sum.PayloadBytes, src.bytes)
	}
	checkResent(t, resent, killed, crashRate)
}

// retryWaits lists the back-off waits the sender logged, by attempt.
func retryWaits(s *sender) []string {
	lines, _ := s.errs.snapshot()
	var waits []string
	for _, l := range lines {
		if !strings.Contains(l.text, "connection lost, retrying") {
			continue
		}
		var attempt, in string
		for _, f := range strings.Fields(l.text) {
			if v, ok := strings.CutPrefix(f, "attempt="); ok {
				attempt = v
			}
			if v, ok := strings.CutPrefix(f, "in="); ok {
				in = v
			}
		}
		waits = append(waits, "#"+attempt+":"+in)
	}
	return waits
}
