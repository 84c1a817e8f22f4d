//go:build linux

package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// run runs a command and returns its combined output, with the output in
// the error when it fails.
func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	out := strings.TrimSpace(b.String())
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return out, nil
}

// Process is a child started in its own process group, so that it and
// whatever it starts can be killed at once.
type Process struct {
	Cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startProcess starts cmd in a new process group. Stdout and stderr are
// left to the caller.
func startProcess(cmd *exec.Cmd) (*Process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{Cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Kill sends sig to the process group of p.
func (p *Process) Kill(sig syscall.Signal) {
	if p == nil || p.Cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.Cmd.Process.Pid, sig)
}

// Wait waits for p to exit.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// WaitContext waits for p to exit, or kills its process group when ctx
// ends first and returns ctx's error.
func (p *Process) WaitContext(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		p.Kill(syscall.SIGKILL)
		<-p.done
		return ctx.Err()
	}
}

// Done is closed when p has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop asks p's process group to end (SIGTERM), waits up to grace, then
// kills it.
func (p *Process) Stop(grace time.Duration) {
	if p == nil {
		return
	}
	p.Kill(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill(syscall.SIGKILL)
		<-p.done
	}
}

// waitLine reads r until a line contains want or timeout passes; the rest
// of r is copied to rest.
func waitLine(r io.Reader, want string, timeout time.Duration, rest io.Writer) error {
	found := make(chan error, 1)
	go func() {
		var line []byte
		buf := make([]byte, 4096)
		signalled := false
		for {
			n, err := r.Read(buf)
			if n > 0 {
				rest.Write(buf[:n])
				if !signalled {
					line = append(line, buf[:n]...)
					if bytes.Contains(line, []byte(want)) {
						found <- nil
						signalled = true
						line = nil
					}
				}
			}
			if err != nil {
				if !signalled {
					found <- fmt.Errorf("exited before printing %q: %s", want, strings.TrimSpace(string(line)))
				}
				return
			}
		}
	}()
	select {
	case err := <-found:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("no %q within %v", want, timeout)
	}
}

// Requirements installs the Debian packages the benchmark needs when their
// commands are missing, saying so first.
func Requirements(ctx context.Context, logf func(string, ...any)) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("the benchmark needs root (network namespaces, tbf, sshd)")
	}
	need := map[string]string{
		"rsync":      "rsync",
		"sshd":       "openssh-server",
		"ssh":        "openssh-client",
		"ip":         "iproute2",
		"tc":         "iproute2",
		"ssh-keygen": "openssh-client",
	}
	paths := map[string][]string{"sshd": {"/usr/sbin/sshd"}}
	var pkgs []string
	seen := map[string]bool{}
	for _, c := range []string{"rsync", "sshd", "ssh", "ssh-keygen", "ip", "tc"} {
		if have(c, paths[c]...) {
			continue
		}
		if p := need[c]; !seen[p] {
			seen[p] = true
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	logf("installing missing Debian packages: %s (apt-get update && apt-get install -y)", strings.Join(pkgs, " "))
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	for _, args := range [][]string{{"update"}, append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", args[0], err)
		}
	}
	return nil
}

func have(name string, extra ...string) bool {
	if _, err := exec.LookPath(name); err == nil {
		return true
	}
	for _, p := range extra {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// Machine describes the host for the report.
type Machine struct {
	CPU    string
	Cores  int
	Kernel string
	Go     string
}

// ReadMachine reads the CPU model, core count and kernel release.
func ReadMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), CPU: "unknown", Kernel: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// LoadAverage returns the 1-minute load average, or -1.
func LoadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	x, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return x
}
