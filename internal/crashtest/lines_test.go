package crashtest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"
)

// line is one line a child process wrote, with the wall time this process
// read it.
type line struct {
	at   time.Time
	text string
}

// lineLog collects a child's output line by line as it arrives. Waiters
// poll it through changed, never by sleeping.
type lineLog struct {
	mu      sync.Mutex
	prefix  string
	partial []byte
	lines   []line
	changed chan struct{} // closed and replaced on each new line
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

func (l *lineLog) Write(p []byte) (int, error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, line{at: now, text: l.prefix + string(l.partial[:i])})
		l.partial = l.partial[i+1:]
		added = true
	}
	if added {
		close(l.changed)
		l.changed = make(chan struct{})
	}
	return len(p), nil
}

// setPrefix marks the lines that follow (a new incarnation of a process).
func (l *lineLog) setPrefix(p string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prefix = p
}

// snapshot returns the lines so far and a channel closed at the next one.
func (l *lineLog) snapshot() ([]line, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines[:len(l.lines):len(l.lines)], l.changed
}

// count returns how many lines contain s.
func (l *lineLog) count(s string) int {
	lines, _ := l.snapshot()
	return countLines(lines, s)
}

// find returns the first line at or after index from that contains s.
func (l *lineLog) find(from int, s string) (line, int, bool) {
	lines, _ := l.snapshot()
	for i := from; i < len(lines); i++ {
		if strings.Contains(lines[i].text, s) {
			return lines[i], i, true
		}
	}
	return line{}, 0, false
}

// tail returns the last n lines, and a partial last line, as one string.
func (l *lineLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	from := max(0, len(l.lines)-n)
	if from > 0 {
		fmt.Fprintf(&b, "[... %d earlier lines]\n", from)
	}
	for _, ln := range l.lines[from:] {
		fmt.Fprintf(&b, "%s %s\n", ln.at.Format("15:04:05.000"), ln.text)
	}
	if len(l.partial) > 0 {
		fmt.Fprintf(&b, "%s (no newline)\n", l.partial)
	}
	return b.String()
}

// waitLines waits until cond holds for the lines, stop is closed, or the
// timeout passes, and reports whether cond held.
func (l *lineLog) waitLines(timeout time.Duration, stop <-chan struct{}, cond func([]line) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		lines, changed := l.snapshot()
		if cond(lines) {
			return true
		}
		select {
		case <-changed:
		case <-stop:
			lines, _ := l.snapshot()
			return cond(lines)
		case <-deadline.C:
			return false
		}
	}
}
