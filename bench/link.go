//go:build linux

package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Link is two network namespaces joined by a veth pair, each end shaped
// with tbf at the same rate. Both namespaces share the host's filesystem.
type Link struct {
	SrcNS, DstNS string
	SrcIf, DstIf string
	SrcIP, DstIP string
	Rate         int64 // bits per second; 0: unshaped

	anchors map[string]*Process // a sleeping process per namespace, for /proc/PID/net
}

// Default names and addresses.
const (
	srcNS = "fb-src"
	dstNS = "fb-dst"
	srcIf = "fb-s"
	dstIf = "fb-d"
	srcIP = "10.77.0.1"
	dstIP = "10.77.0.2"
)

// SetupLink creates the namespaces and the veth pair. Namespaces of the same
// names left over from an earlier run are deleted first.
func SetupLink(ctx context.Context, logf func(string, ...any)) (l *Link, err error) {
	l = &Link{SrcNS: srcNS, DstNS: dstNS, SrcIf: srcIf, DstIf: dstIf, SrcIP: srcIP, DstIP: dstIP,
		anchors: map[string]*Process{}}
	for _, ns := range []string{srcNS, dstNS} {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			logf("deleting the network namespace %s left over from an earlier run", ns)
			run(ctx, "ip", "netns", "del", ns)
		}
	}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	steps := [][]string{
		{"netns", "add", srcNS},
		{"netns", "add", dstNS},
		{"link", "add", srcIf, "netns", srcNS, "type", "veth", "peer", "name", dstIf, "netns", dstNS},
	}
	for _, s := range steps {
		if _, err := run(ctx, "ip", s...); err != nil {
			return l, err
		}
	}
	for _, ns := range []string{srcNS, dstNS} {
		// No IPv6: router solicitations and the like would add to the
		// byte counters.
		l.nsSh(ctx, ns, "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
		if _, err := run(ctx, "ip", "-n", ns, "link", "set", "lo", "up"); err != nil {
			return l, err
		}
		p, err := startProcess(exec.Command("ip", "netns", "exec", ns, "sleep", "infinity"))
		if err != nil {
			return l, err
		}
		l.anchors[ns] = p
	}
	for _, s := range [][]string{
		{"-n", srcNS, "addr", "add", srcIP + "/24", "dev", srcIf},
		{"-n", dstNS, "addr", "add", dstIP + "/24", "dev", dstIf},
		{"-n", srcNS, "link", "set", srcIf, "up"},
		{"-n", dstNS, "link", "set", dstIf, "up"},
	} {
		if _, err := run(ctx, "ip", s...); err != nil {
			return l, err
		}
	}
	return l, l.waitUp(ctx)
}

func (l *Link) nsSh(ctx context.Context, ns, script string) {
	run(ctx, "ip", "netns", "exec", ns, "sh", "-c", script)
}

// SetRate shapes both ends with tbf at bps bits per second, or removes the
// shaping if bps is 0. The queue holds 100 ms at the rate; the burst is
// 10 ms at the rate, at least 4 KiB.
func (l *Link) SetRate(ctx context.Context, bps int64) error {
	l.Rate = bps
	for _, e := range [][2]string{{l.SrcNS, l.SrcIf}, {l.DstNS, l.DstIf}} {
		if bps == 0 {
			run(ctx, "ip", "netns", "exec", e[0], "tc", "qdisc", "del", "dev", e[1], "root")
			continue
		}
		burst := max(4096, bps/8/100)
		if _, err := run(ctx, "ip", "netns", "exec", e[0], "tc", "qdisc", "replace", "dev", e[1], "root",
			"tbf", "rate", strconv.FormatInt(bps, 10)+"bit", "burst", strconv.FormatInt(burst, 10), "latency", "100ms"); err != nil {
			return err
		}
	}
	return nil
}

// Qdiscs returns the tc description of both ends, for the report.
func (l *Link) Qdiscs(ctx context.Context) string {
	var s []string
	for _, e := range [][2]string{{l.SrcNS, l.SrcIf}, {l.DstNS, l.DstIf}} {
		out, _ := run(ctx, "ip", "netns", "exec", e[0], "tc", "qdisc", "show", "dev", e[1])
		s = append(s, e[1]+": "+strings.TrimSpace(out))
	}
	return strings.Join(s, "; ")
}

// Cut takes both ends of the veth down: nothing passes either way.
func (l *Link) Cut(ctx context.Context) error {
	_, err1 := run(ctx, "ip", "-n", l.SrcNS, "link", "set", l.SrcIf, "down")
	_, err2 := run(ctx, "ip", "-n", l.DstNS, "link", "set", l.DstIf, "down")
	return errors.Join(err1, err2)
}

// Restore brings both ends back up with the shaping they had.
func (l *Link) Restore(ctx context.Context) error {
	for _, e := range [][2]string{{l.SrcNS, l.SrcIf}, {l.DstNS, l.DstIf}} {
		if _, err := run(ctx, "ip", "-n", e[0], "link", "set", e[1], "up"); err != nil {
			return err
		}
	}
	if err := l.SetRate(ctx, l.Rate); err != nil {
		return err
	}
	return l.waitUp(ctx)
}

func (l *Link) waitUp(ctx context.Context) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := run(ctx, "ip", "-n", l.SrcNS, "-j", "link", "show", l.SrcIf)
		if err == nil {
			var v []struct {
				Operstate string `json:"operstate"`
			}
			if json.Unmarshal([]byte(out), &v) == nil && len(v) == 1 && v[0].Operstate == "UP" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("link %s did not come up: %s", l.SrcIf, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Counters reads the veth's counters through /proc/PID/net/dev of a process
// living in the source namespace: a file read, cheap enough to poll.
func (l *Link) Counters() (Counters, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", l.anchors[l.SrcNS].Cmd.Process.Pid))
	if err != nil {
		return Counters{}, err
	}
	return parseNetDev(string(b), l.SrcIf)
}

// ListeningTCP reports whether something listens on TCP port in the
// destination namespace.
func (l *Link) ListeningTCP(port int) bool {
	return l.listening("tcp", port)
}

func (l *Link) listening(proto string, port int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", l.anchors[l.DstNS].Cmd.Process.Pid, proto))
	if err != nil {
		return false
	}
	want := fmt.Sprintf(":%04X ", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[1]+" ", want) && (proto == "udp" || f[3] == "0A") {
			return true
		}
	}
	return false
}

// Cmd returns a command that runs name in namespace ns.
func (l *Link) Cmd(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// Close kills the anchors and deletes both namespaces; it is safe to call
// more than once.
func (l *Link) Close() error {
	for ns, p := range l.anchors {
		p.Stop(time.Second)
		delete(l.anchors, ns)
	}
	var errs []error
	for _, ns := range []string{l.SrcNS, l.DstNS} {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			if _, err := run(context.Background(), "ip", "netns", "del", ns); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
