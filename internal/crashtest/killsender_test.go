package crashtest

import (
	"fmt"
	"testing"
	"time"
)

// senderRun is what one sender process sent.
type senderRun struct {
	up      int64 // UDP payload bytes the proxy received from it
	payload int64 // its payload_bytes, known only for a run that finished
}

// TestSenderKilled SIGKILLs the sender at random moments of a sync and
// runs it again with the same arguments; the hub keeps running. After each
// kill no file at a final path may be partial or wrong and the restore
// point HEAD names must be intact; the last run must finish with the tree
// and a complete manifest equal to the source.
//
// A killed sender never writes its summary, so its payload is estimated
// from the bytes the proxy received from it, scaled by the wire overhead
// the last run shows (its exact payload_bytes against its wire bytes).
// That needs wire bytes proportional to payload: this test sends with
// --compress never (the text files would shrink on the wire, the bulk
// data would not).
func TestSenderKilled(t *testing.T) {
	n := kills(t)
	rng := testRand(t)
	src := crashTree(t, rng, n)
	r := newRig(t, src, rigConfig{rate: crashRate, timeout: "3s"})
	r.sendArgs = append(r.sendArgs, "--compress", "never")
	var snd *sender
	dumpOnFailure(t, r.hub, func() *sender { return snd })
	t.Logf("tree: %d files, %d directories, %s; link %d MB/s", len(src.files), len(src.dirs), mib(src.bytes), crashRate/1_000_000)

	start := time.Now()
	var (
		runs  []senderRun
		evs   []event
		heads []uint64
		seen  = r.hub.sessions()
		up    int64
	)
	for len(runs) < n {
		snd = startSender(t, r.sendArgs)
		if !r.hub.waitSession(seen, time.Minute, snd.proc.done) && !snd.proc.exited() {
			t.Fatalf("sender run %d started no session within a minute", len(runs)+1)
		}
		seen = r.hub.sessions()
		select {
		case <-time.After(killDelay(rng)):
		case <-snd.proc.done:
		}
		if !snd.proc.kill() {
			break // it finished: this is the last run
		}
		run := senderRun{up: r.upBytes() - up}
		up += run.up
		runs = append(runs, run)
		evs = append(evs, snd.events(t)...)
		heads = append(heads, src.checkCrashed(t, r.hub.ns, fmt.Sprintf("after sender kill %d", len(runs))))
		if t.Failed() {
			t.FailNow()
		}
		snd = nil
	}
	killed := len(runs)
	if snd == nil {
		snd = startSender(t, r.sendArgs)
	}
	sum := snd.finish(t, 3*time.Minute)
	last := senderRun{up: r.upBytes() - up, payload: sum.PayloadBytes}
	evs = append(evs, snd.events(t)...)
	elapsed := time.Since(start)
	if killed < n {
		t.Errorf("the sync finished after %d kills, want %d: the tree is too small for the link", killed, n)
	}
	src.checkSame(t, r.hub.ns)
	src.checkFinalManifest(t, r.hub.ns)
	checkNoResend(t, evs)

	// One more run over the synced tree sends no file data; its wire bytes
	// are what a run costs besides payload (the handshake, settling what
	// the hub has, the commit): about the most a killed run spent on
	// anything but payload.
	snd = startSender(t, r.sendArgs)
	if again := snd.finish(t, time.Minute); again.PayloadBytes != 0 {
		t.Errorf("a run over the synced tree sent %d payload bytes, want 0", again.PayloadBytes)
	}
	overhead := r.upBytes() - up - last.up

	// Wire bytes per payload byte, from the last run, whose payload is
	// known exactly. It covers QUIC and frame overhead, offers and the
	// handshake; the handshake of each killed run (a few KiB) is counted
	// as payload, so the estimate errs high.
	ratio := 1.0
	if last.payload > 1<<20 {
		ratio = float64(last.up) / float64(last.payload)
	} else {
		t.Logf("the last run sent only %d bytes; wire overhead not calibrated, taken as none", last.payload)
	}
	// high counts all of a killed run's wire bytes as payload; low takes
	// off each the whole overhead of a run, though a killed run offered
	// only what it reached.
	high, low := last.payload, last.payload
	for _, run := range runs {
		high += int64(float64(run.up) / ratio)
		low += int64(float64(max(0, run.up-overhead)) / ratio)
	}
	resent, resentLow := high-src.bytes, low-src.bytes
	per := func(b int64) string {
		return fmt.Sprintf("%s per kill (%.2f chunks)", kib(b/int64(max(killed, 1))), float64(b)/float64(max(killed, 1))/chunkSize)
	}
	t.Logf("%d kills in %.1fs; HEAD at each kill %v", killed, elapsed.Seconds(), heads)
	t.Logf("wire/payload %.4f (last run: %d wire, %d payload bytes); a run's overhead besides payload: %s",
		ratio, last.up, last.payload, kib(overhead))
	t.Logf("re-sent for a %d-byte tree: between %s, %s and %s, %s; resumed files %d",
		src.bytes, kib(resentLow), per(resentLow), kib(resent), per(resent), countResumed(evs))
	checkResent(t, resent, killed, crashRate)
}
