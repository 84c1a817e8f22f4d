package crashtest

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// child is a running ferry process.
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited and its output is read
	err  error         // the exit, once done is closed
}

func startChild(t *testing.T, stdout, stderr io.Writer, args ...string) *child {
	t.Helper()
	cmd := exec.Command(ferryBin, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ferry %s: %v", args[0], err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone. It reports
// whether the process was still running, that is whether this killed it.
func (c *child) kill() bool {
	if c.exited() {
		return false
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return ws.Signal() == syscall.SIGKILL
		}
	}
	return false
}

// stop asks the process to end (SIGTERM), then kills it after grace.
func (c *child) stop(grace time.Duration) {
	if c.exited() {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		c.kill()
	}
}

// wait waits for the process to exit and returns its exit code, or -1 if
// it was killed by a signal; ok is false after timeout.
func (c *child) wait(timeout time.Duration) (code int, ok bool) {
	select {
	case <-c.done:
	case <-time.After(timeout):
		return 0, false
	}
	if c.err == nil {
		return 0, true
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.ExitCode(), true
	}
	return -1, true
}

// ferryID runs 'ferry id' for the state directory, creating the identity.
func ferryID(t *testing.T, state string) string {
	t.Helper()
	out, err := exec.Command(ferryBin, "id", "--state", state).Output()
	if err != nil {
		t.Fatalf("ferry id --state %s: %v", state, err)
	}
	return strings.TrimSpace(string(out))
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
// The hub keeps it across restarts so that the sender finds it again.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// exists reports whether p exists.
func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
