//go:build linux

package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Ferry runs `ferry serve` in the destination namespace and `ferry send` in
// the source namespace, with identities made in temporary state
// directories. The hub admits the sender into the namespace "bench", so the
// tree lands in ROOT/bench; ROOT/bench/.ferry is ferry's state.
type Ferry struct {
	env                 *Env
	dir                 string
	sendState, hubState string
	root                string
	sendID, hubID       string
	listen, target      string
	serve               *Process
	serveLog            *os.File
}

const ferryPort = 7077

func (f *Ferry) Name() string { return "ferry" }

func (f *Ferry) Version(ctx context.Context) string {
	return "ferry " + f.env.Bin.Commit
}

func (f *Ferry) Dest() string { return filepath.Join(f.root, "bench") }

func (f *Ferry) Ignore(rel string) bool { return rel == ".ferry" || strings.HasPrefix(rel, ".ferry/") }

func (f *Ferry) Start(ctx context.Context, env *Env) error {
	f.env = env
	f.dir = filepath.Join(env.Work, "ferry")
	f.sendState = filepath.Join(f.dir, "send-state")
	f.hubState = filepath.Join(f.dir, "hub-state")
	f.root = filepath.Join(f.dir, "root")
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	var err error
	if f.sendID, err = run(ctx, env.Bin.Ferry, "id", "--state", f.sendState); err != nil {
		return err
	}
	if f.hubID, err = run(ctx, env.Bin.Ferry, "id", "--state", f.hubState); err != nil {
		return err
	}
	f.sendID, f.hubID = lastLine(f.sendID), lastLine(f.hubID)
	host := env.Link.DstIP
	if env.ListenLocal {
		host = "127.0.0.1"
	}
	f.listen = net.JoinHostPort(host, strconv.Itoa(ferryPort))
	f.target = net.JoinHostPort(env.Link.DstIP, strconv.Itoa(ferryPort))
	if env.Via != "" {
		f.target = env.Via
	}
	if f.serveLog, err = os.OpenFile(env.Log("ferry-serve"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return err
	}
	return f.startServe(ctx)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[i+1:])
	}
	return s
}

func (f *Ferry) startServe(ctx context.Context) error {
	cmd := f.env.Link.Cmd(f.env.Link.DstNS, f.env.Bin.Ferry, "serve", "--root", f.root, "--listen", f.listen,
		"--allow", f.sendID+"=bench", "--state", f.hubState)
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = w, w
	p, err := startProcess(cmd)
	w.Close()
	if err != nil {
		r.Close()
		return err
	}
	f.serve = p
	fmt.Fprintf(f.serveLog, "--- %s ferry serve --listen %s\n", time.Now().Format(time.RFC3339), f.listen)
	if err := waitLine(r, "listening on", 20*time.Second, f.serveLog); err != nil {
		p.Stop(time.Second)
		return fmt.Errorf("ferry serve: %w", err)
	}
	return nil
}

// Reset stops the hub, removes its root and the sender's hash cache (the
// identities stay), and starts the hub again.
func (f *Ferry) Reset(ctx context.Context) error {
	f.serve.Stop(10 * time.Second)
	if err := os.RemoveAll(f.root); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(f.sendState, "cache")); err != nil {
		return err
	}
	return f.startServe(ctx)
}

func (f *Ferry) Sync(ctx context.Context) (SyncInfo, error) {
	args := []string{"send", f.env.Src, f.target, "--hub-id", f.hubID, "--json", "--progress", "never", "--state", f.sendState}
	for _, g := range f.env.Critical {
		args = append(args, "--critical", g)
	}
	cmd := f.env.Link.Cmd(f.env.Link.SrcNS, f.env.Bin.Ferry, args...)
	cmd.Dir = f.dir
	var out bytes.Buffer
	logf, err := os.OpenFile(f.env.Log("ferry-send"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return SyncInfo{}, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- %s ferry %s\n", time.Now().Format(time.RFC3339), strings.Join(args, " "))
	cmd.Stdout = io.MultiWriter(&out, logf) // the NDJSON events, kept in the log
	cmd.Stderr = logf
	p, err := startProcess(cmd)
	if err != nil {
		return SyncInfo{}, err
	}
	err = p.WaitContext(ctx)
	if ctx.Err() != nil {
		return SyncInfo{}, ctx.Err()
	}
	info, serr := parseFerrySummary(&out)
	if err != nil {
		return info, fmt.Errorf("ferry send: %w (summary error: %v; log %s)", err, serr, f.env.Log("ferry-send"))
	}
	return info, serr
}

func parseFerrySummary(r io.Reader) (SyncInfo, error) {
	var info SyncInfo
	found := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct {
			Event           string  `json:"event"`
			WireBytes       int64   `json:"wire_bytes"`
			PayloadBytes    int64   `json:"payload_bytes"`
			Seconds         float64 `json:"seconds"`
			CriticalSeconds float64 `json:"critical_seconds"`
			Complete        bool    `json:"complete"`
			Error           string  `json:"error"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Event != "summary" {
			continue
		}
		found = true
		info = SyncInfo{SelfWireBytes: ev.WireBytes, SelfCritical: ev.CriticalSeconds,
			SelfSeconds: ev.Seconds, SelfPayloadByte: ev.PayloadBytes}
		if ev.Error != "" {
			return info, fmt.Errorf("summary: %s", ev.Error)
		}
	}
	if !found {
		return info, fmt.Errorf("no summary event")
	}
	return info, nil
}

// Settle waits a moment: a new session preempts the hub's stale one.
func (f *Ferry) Settle(ctx context.Context) error {
	time.Sleep(200 * time.Millisecond)
	return nil
}

func (f *Ferry) Stop() error {
	f.serve.Stop(10 * time.Second)
	if f.serveLog != nil {
		f.serveLog.Close()
	}
	return nil
}
