//go:build linux

package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Rsync runs `rsync -a` (with --partial if partial, -z if compress) in the
// source namespace over ssh to an sshd of its own in the destination
// namespace, started with a temporary host key and one authorized key.
// rsync has no priority mechanism: it sends in name order.
type Rsync struct {
	name     string
	port     int
	partial  bool
	compress bool

	env  *Env
	dir  string
	dest string
	key  string
	sshd *Process
}

func (r *Rsync) Name() string { return r.name }

func (r *Rsync) Version(ctx context.Context) string {
	v, _ := run(ctx, "rsync", "--version")
	s, _ := run(ctx, "ssh", "-V")
	first := func(s string) string { l, _, _ := strings.Cut(s, "\n"); return strings.Join(strings.Fields(l), " ") }
	return first(v) + "; " + first(s)
}

func (r *Rsync) Dest() string { return r.dest }

func (r *Rsync) Ignore(string) bool { return false }

func (r *Rsync) args() []string {
	a := []string{"-a"}
	if r.partial {
		a = append(a, "--partial")
	}
	if r.compress {
		a = append(a, "-z")
	}
	return a
}

func (r *Rsync) Start(ctx context.Context, env *Env) error {
	r.env = env
	r.dir = filepath.Join(env.Work, r.name)
	r.dest = filepath.Join(r.dir, "dst")
	r.key = filepath.Join(r.dir, "id_ed25519")
	hostKey := filepath.Join(r.dir, "ssh_host_ed25519_key")
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return err
	}
	for _, k := range []string{r.key, hostKey} {
		os.Remove(k)
		os.Remove(k + ".pub")
		if _, err := run(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ferry-bench", "-f", k); err != nil {
			return err
		}
	}
	pub, err := os.ReadFile(r.key + ".pub")
	if err != nil {
		return err
	}
	auth := filepath.Join(r.dir, "authorized_keys")
	if err := os.WriteFile(auth, pub, 0o600); err != nil {
		return err
	}
	cfg := filepath.Join(r.dir, "sshd_config")
	conf := fmt.Sprintf(`Port %d
ListenAddress %s
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
MaxStartups 50
LogLevel ERROR
`, r.port, env.Link.DstIP, hostKey, filepath.Join(r.dir, "sshd.pid"), auth)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return err
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // privilege separation directory
		return err
	}
	logf, err := os.OpenFile(env.Log(r.name+"-sshd"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := env.Link.Cmd(env.Link.DstNS, "/usr/sbin/sshd", "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := startProcess(cmd)
	logf.Close()
	if err != nil {
		return err
	}
	r.sshd = p
	deadline := time.Now().Add(10 * time.Second)
	for !env.Link.ListeningTCP(r.port) {
		select {
		case <-p.Done():
			return fmt.Errorf("sshd exited: %v (see %s)", p.Wait(), env.Log(r.name+"-sshd"))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sshd not listening on %s:%d", env.Link.DstIP, r.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func (r *Rsync) Reset(ctx context.Context) error {
	if err := os.RemoveAll(r.dest); err != nil {
		return err
	}
	return os.MkdirAll(r.dest, 0o755)
}

func (r *Rsync) Sync(ctx context.Context) (SyncInfo, error) {
	ssh := strings.Join([]string{"ssh", "-F", "/dev/null", "-p", strconv.Itoa(r.port), "-i", r.key,
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
		"-o", "LogLevel=ERROR", "-o", "Compression=no"}, " ")
	args := append(r.args(), "-e", ssh, r.env.Src+"/", "root@"+r.env.Link.DstIP+":"+r.dest+"/")
	cmd := r.env.Link.Cmd(r.env.Link.SrcNS, "rsync", args...)
	logf, err := os.OpenFile(r.env.Log(r.name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return SyncInfo{}, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- %s rsync %s\n", time.Now().Format(time.RFC3339), strings.Join(args, " "))
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := startProcess(cmd)
	if err != nil {
		return SyncInfo{}, err
	}
	if err := p.WaitContext(ctx); ctx.Err() != nil {
		return SyncInfo{}, ctx.Err()
	} else if err != nil {
		return SyncInfo{}, fmt.Errorf("rsync: %w (log %s)", err, r.env.Log(r.name))
	}
	return SyncInfo{}, nil
}

// Settle waits until the sshd has no session left: the server side of a
// killed rsync finds out when the client's FIN arrives over the restored
// link, and only then moves its partial file into place (with --partial)
// or deletes it (without).
// After a minute it kills what is left of the session.
func (r *Rsync) Settle(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		kids := descendants(r.sshd.Cmd.Process.Pid)
		if len(kids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			for _, pid := range kids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			r.env.Logf("%s: killed %d leftover sshd session processes", r.name, len(kids))
			time.Sleep(500 * time.Millisecond)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// descendants lists the processes below pid.
func descendants(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := map[int]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		parent[p] = pp
	}
	var out []int
	for p := range parent {
		for q, hops := parent[p], 0; q > 1 && hops < 64; q, hops = parent[q], hops+1 {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func (r *Rsync) Stop() error {
	r.sshd.Stop(5 * time.Second)
	return nil
}
