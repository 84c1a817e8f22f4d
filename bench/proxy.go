//go:build linux

package bench

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proxy is ferry-netsim running in the destination namespace, in front of a
// server listening on 127.0.0.1 there: UDP from the source namespace reaches
// the proxy through the veth (and its tbf), and the proxy adds delay and
// loss.
type Proxy struct {
	Addr    string // where senders connect
	p       *Process
	log     *os.File
	logPath string
	stopped bool
}

// StartProxy starts the proxy on link.DstIP:port relaying to
// 127.0.0.1:upstream, with one-way delay and loss each way. Its counters
// go to logPath when it stops.
func StartProxy(l *Link, bin string, port, upstream int, delay time.Duration, loss float64, seed uint64, logPath string) (*Proxy, error) {
	addr := net.JoinHostPort(l.DstIP, strconv.Itoa(port))
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := l.Cmd(l.DstNS, bin, "--listen", addr, "--upstream", net.JoinHostPort("127.0.0.1", strconv.Itoa(upstream)),
		"--delay", delay.String(), "--loss", strconv.FormatFloat(loss, 'g', -1, 64), "--seed", strconv.FormatUint(seed, 10))
	r, w, err := os.Pipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	fmt.Fprintf(logf, "--- %s %v\n", time.Now().Format(time.RFC3339), cmd.Args)
	p, err := startProcess(cmd)
	w.Close()
	if err != nil {
		r.Close()
		logf.Close()
		return nil, err
	}
	if err := waitLine(r, addr, 10*time.Second, logf); err != nil {
		p.Stop(time.Second)
		logf.Close()
		return nil, fmt.Errorf("ferry-netsim: %w", err)
	}
	return &Proxy{Addr: addr, p: p, log: logf, logPath: logPath}, nil
}

// Stop interrupts the proxy, which writes its counters to the log.
func (x *Proxy) Stop() {
	if x == nil || x.stopped {
		return
	}
	x.stopped = true
	x.p.Kill(syscall.SIGINT)
	select {
	case <-x.p.Done():
	case <-time.After(5 * time.Second):
		x.p.Kill(syscall.SIGKILL)
		x.p.Wait()
	}
	time.Sleep(100 * time.Millisecond) // let the copier drain the counters
	x.log.Close()
}

// Stats stops the proxy and returns its counters, one line per direction
// ("up: 6594 datagrams, 75 lost, 0 queue drops"), from its log.
func (x *Proxy) Stats() []string {
	x.Stop()
	b, err := os.ReadFile(x.logPath)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "msg=stats dir=") {
			continue
		}
		kv := map[string]string{}
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		out = append(out, fmt.Sprintf("%s: %s datagrams, %s lost, %s dropped at the queue",
			kv["dir"], kv["packets"], kv["dropped_loss"], kv["dropped_queue"]))
	}
	return out
}
