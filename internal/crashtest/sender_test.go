package crashtest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// sender is one 'ferry send' process.
type sender struct {
	proc    *child
	out     *lineLog // NDJSON, each line stamped when read
	errs    *lineLog
	started time.Time
}

func startSender(t *testing.T, args []string) *sender {
	t.Helper()
	s := &sender{out: newLineLog(), errs: newLineLog(), started: time.Now()}
	s.proc = startChild(t, s.out, s.errs, args...)
	t.Cleanup(func() { s.proc.kill() })
	return s
}

// event is one NDJSON line of 'ferry send --json'; at is when it was read.
type event struct {
	at           time.Time
	Event        string  `json:"event"`
	Path         string  `json:"path"`
	Class        string  `json:"class"`
	Size         int64   `json:"size"`
	Bytes        int64   `json:"bytes"`
	Offset       int64   `json:"offset"`
	Skipped      bool    `json:"skipped"`
	Error        string  `json:"error"`
	Files        int     `json:"files"`
	FilesSent    int     `json:"files_sent"`
	PayloadBytes int64   `json:"payload_bytes"`
	WireBytes    int64   `json:"wire_bytes"`
	Seconds      float64 `json:"seconds"`
	Manifest     uint64  `json:"manifest"`
	Complete     bool    `json:"complete"`
	Failed       int     `json:"failed"`
}

// events parses the NDJSON read so far. A killed sender may leave a torn
// last line; it is not a line yet and is not parsed.
func (s *sender) events(t *testing.T) []event {
	t.Helper()
	lines, _ := s.out.snapshot()
	evs := make([]event, 0, len(lines))
	for _, l := range lines {
		var e event
		if err := json.Unmarshal([]byte(l.text), &e); err != nil || e.Event == "" {
			t.Errorf("sender stdout is not NDJSON: %q (%v)", l.text, err)
			continue
		}
		e.at = l.at
		evs = append(evs, e)
	}
	return evs
}

// summary returns the run's summary event.
func summary(evs []event) (event, bool) {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Event == "summary" {
			return evs[i], true
		}
	}
	return event{}, false
}

// finish waits for the sender to exit and checks it committed a complete
// restore point: exit 0 and a complete summary.
func (s *sender) finish(t *testing.T, timeout time.Duration) event {
	t.Helper()
	code, ok := s.proc.wait(timeout)
	if !ok {
		t.Fatalf("sender still running after %v", timeout)
	}
	sum, found := summary(s.events(t))
	if code != 0 || !found || !sum.Complete || sum.Failed != 0 {
		t.Fatalf("sender exit %d, summary %+v (found %v), want exit 0 and a complete restore point", code, sum, found)
	}
	return sum
}

// checkNoResend checks guarantee 4 over the events of one or more runs in
// order, as far as the sender's events show it: a file the receiver
// reported placed (file_done, not skipped, no error) is never started
// again, and a file started again resumes at or after the offset of its
// previous start, which the receiver had journaled.
func checkNoResend(t *testing.T, evs []event) {
	t.Helper()
	placed := map[string]bool{}
	startedAt := map[string]int64{}
	for _, e := range evs {
		switch {
		case e.Event == "file_start" && placed[e.Path]:
			t.Errorf("%s started again (offset %d) after it was placed", e.Path, e.Offset)
		case e.Event == "file_start":
			if prev, ok := startedAt[e.Path]; ok && e.Offset < prev {
				t.Errorf("%s resumed at %d, before the journaled offset %d it started from earlier", e.Path, e.Offset, prev)
			}
			startedAt[e.Path] = e.Offset
		case e.Event == "file_done" && e.Error == "" && !e.Skipped:
			placed[e.Path] = true
		}
	}
}

// dumpOnFailure logs the hub's log and the tail of the last sender's
// stderr when the test fails.
func dumpOnFailure(t *testing.T, h *hub, last func() *sender) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		if h != nil {
			t.Logf("hub stderr:\n%s", h.stderr.tail(300))
		}
		if s := last(); s != nil {
			t.Logf("last sender stderr:\n%s", s.errs.tail(60))
			t.Logf("last sender stdout (NDJSON):\n%s", s.out.tail(20))
		}
	})
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
func kib(n int64) string { return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10)) }
