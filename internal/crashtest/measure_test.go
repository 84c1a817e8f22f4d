package crashtest

import (
	"testing"
	"time"
)

// TestMeasureCut measures, for the report, what a link cut costs: a 64 MiB
// file through an 8 MB/s link, cut at about half for 4 s (the connection
// dies after the 3 s idle timeout), then restored. It logs the bytes
// re-sent on resume and the time from the new connection to the first new
// chunk (the file_start with an offset, which the sender writes as the
// resumed file starts); it asserts only that the sync completes.
func TestMeasureCut(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement for the report; -short skips it")
	}
	src := bigFileTree(t, 64<<20)
	r, snd, cutAt, restoredAt := cutRun(t, src, 8_000_000, "3s", 4*time.Second)
	sum := snd.finish(t, 2*time.Minute)
	src.checkSame(t, r.hub.ns)
	evs := snd.events(t)
	checkNoResend(t, evs)

	lost, _, lostOK := snd.errs.find(0, "connection lost")
	// The hub logs each session as it starts; the second is the reconnect.
	var session line
	sessions := 0
	hubLines, _ := r.hub.stderr.snapshot()
	for _, l := range hubLines {
		if countLines([]line{l}, `msg="session started"`) == 1 {
			if sessions++; sessions == 2 {
				session = l
			}
		}
	}
	resumed, resOK := firstResume(evs)
	if !lostOK || sessions < 2 || !resOK {
		t.Fatalf("no reconnect seen: connection lost %v, sessions %d, resumed %v", lostOK, sessions, resOK)
	}
	since := func(a, b time.Time) float64 { return b.Sub(a).Seconds() }
	t.Logf("64 MiB at 8 MB/s, cut at %.1fs for %v; payload %d bytes: re-sent %s (%.2f chunks of 64 KiB)",
		since(snd.started, cutAt), restoredAt.Sub(cutAt).Round(time.Millisecond), sum.PayloadBytes,
		kib(sum.PayloadBytes-src.bytes), float64(sum.PayloadBytes-src.bytes)/chunkSize)
	t.Logf("cut → sender saw the connection lost: %.2fs; link restored → new session: %.2fs; new session → first new chunk (file_start at offset %d): %.3fs; link restored → first new chunk: %.2fs",
		since(cutAt, lost.at), since(restoredAt, session.at), resumed.Offset, since(session.at, resumed.at), since(restoredAt, resumed.at))
	t.Logf("whole run %.1fs (%.1fs at full rate without the cut)", sum.Seconds, float64(src.bytes)/8e6)
}
