package crashtest

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hubStartTimeout bounds how long a hub may take to print that it listens.
const hubStartTimeout = 30 * time.Second

// hub is a 'ferry serve' process that can be killed and restarted on the
// same port with the same root and state.
type hub struct {
	t       *testing.T
	root    string // --root
	state   string // --state: identity and stateless-reset key
	addr    string // 127.0.0.1:PORT, the same for every incarnation
	ns      string // the device's namespace under root
	id      string
	args    []string
	stdout  *lineLog
	stderr  *lineLog // every incarnation, each line prefixed with its number
	proc    *child
	started int // incarnations
}

// newHub prepares a hub admitting devID as namespace "dev"; start runs it.
func newHub(t *testing.T, devID, timeout string) *hub {
	t.Helper()
	h := &hub{
		t:      t,
		root:   t.TempDir(),
		state:  t.TempDir(),
		addr:   fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t)),
		stdout: newLineLog(),
		stderr: newLineLog(),
	}
	h.ns = filepath.Join(h.root, "dev")
	h.id = ferryID(t, h.state)
	h.args = []string{"serve", "--root", h.root, "--listen", h.addr, "--state", h.state,
		"--allow", devID + "=dev", "--timeout", timeout}
	t.Cleanup(func() {
		if h.proc != nil {
			h.proc.stop(10 * time.Second)
		}
	})
	return h
}

// start runs a new incarnation and waits until it listens.
func (h *hub) start() {
	h.t.Helper()
	if h.proc != nil && !h.proc.exited() {
		h.t.Fatal("hub started twice")
	}
	h.started++
	h.stderr.setPrefix(fmt.Sprintf("[hub#%d] ", h.started))
	h.proc = startChild(h.t, h.stdout, h.stderr, h.args...)
	want := h.started
	ok := h.stdout.waitLines(hubStartTimeout, h.proc.done, func(ls []line) bool {
		return countLines(ls, "listening on") >= want
	})
	if !ok {
		h.t.Fatalf("hub #%d did not print that it listens within %v (exited: %v)", want, hubStartTimeout, h.proc.exited())
	}
	ls, _ := h.stdout.snapshot()
	ln := ls[len(ls)-1]
	// "ferry hub ID listening on ADDR"
	if f := strings.Fields(ln.text); len(f) < 6 || f[2] != h.id || f[len(f)-1] != h.addr {
		h.t.Fatalf("hub says %q, want ID %s on %s", ln.text, h.id, h.addr)
	}
}

// kill SIGKILLs the hub; the caller checks the disk, then starts it again.
func (h *hub) kill() {
	if !h.proc.kill() {
		h.t.Fatalf("hub #%d was not running when it was to be killed: %v", h.started, h.proc.err)
	}
}

// sessions counts the sessions that every incarnation started so far.
func (h *hub) sessions() int { return h.stderr.count(`msg="session started"`) }

// waitSession waits until more than n sessions were started, the sender
// stop exits, or timeout passes.
func (h *hub) waitSession(n int, timeout time.Duration, stop <-chan struct{}) bool {
	return h.stderr.waitLines(timeout, stop, func(ls []line) bool {
		return countLines(ls, `msg="session started"`) > n
	})
}

func countLines(ls []line, s string) int {
	n := 0
	for _, l := range ls {
		if strings.Contains(l.text, s) {
			n++
		}
	}
	return n
}
