package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/prioritize"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

func sampleRules(t testing.TB) prioritize.Rules {
	t.Helper()
	r, err := prioritize.ParseRules(strings.NewReader(`
critical zz/state/**
critical config/*.conf
bulk media/**
after db/*.idx db/*.dat
`), "test.rules")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// placedLog records the order in which the receiver placed files.
type placedLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *placedLog) add(p string) {
	l.mu.Lock()
	l.paths = append(l.paths, p)
	l.mu.Unlock()
}

func (l *placedLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.paths
	l.paths = nil
	return p
}

// hub runs a receiver hub on 127.0.0.1 admitting the given identities.
type hub struct {
	id     *identity.Identity
	addr   string
	root   string
	placed *placedLog
}

func startHub(t testing.TB, allow map[identity.ID]string, configure ...func(*receiver.Hub)) *hub {
	t.Helper()
	h, stop := serveHub(t, t.TempDir(), allow, configure...)
	t.Cleanup(stop)
	return h
}

// serveHub runs a hub storing under root until stop is called; stop waits
// for it to end.
func serveHub(t testing.TB, root string, allow map[identity.ID]string, configure ...func(*receiver.Hub)) (h *hub, stop func()) {
	t.Helper()
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	return serveHubAs(t, root, id, "127.0.0.1:0", allow, configure...)
}

// serveHubAs is serveHub with the hub's identity and UDP address given: a
// hub restarted.
func serveHubAs(t testing.TB, root string, id *identity.Identity, addr string, allow map[identity.ID]string, configure ...func(*receiver.Hub)) (h *hub, stop func()) {
	t.Helper()
	h = &hub{id: id, root: root, placed: &placedLog{}}
	rh := &receiver.Hub{Root: h.root, Allow: allow, Placed: h.placed.add}
	for _, c := range configure {
		c(rh)
	}
	ln, err := transfer.Listen(addr, id.ServerConfig(rh.Admit), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rh.Serve(ctx, ln) }()
	return h, func() {
		cancel()
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("hub: %v", err)
		}
	}
}

func send(t testing.TB, src string, rules prioritize.Rules, connect agent.Connect) (agent.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opt := agent.Options{Source: src, Rules: rules, ChunkSize: 256 << 10}
	plan, err := agent.Scan(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	return agent.Send(ctx, time.Now(), plan, opt, connect)
}

func localConnect(dir string, placed *placedLog) agent.Connect {
	return func(ctx context.Context, _ agent.Hint) (*agent.Conn, error) {
		opt := receiver.Options{}
		if placed != nil {
			opt.Placed = placed.add
		}
		c, err := receiver.Local(ctx, dir, opt)
		if err != nil {
			return nil, err
		}
		return &agent.Conn{Stream: c, WireBytes: c.Bytes, Close: func(error) { c.Close() }}, nil
	}
}

// planOrder returns the plan's file and symlink paths in order.
func planOrder(t testing.TB, src string, rules prioritize.Rules) []string {
	t.Helper()
	plan, err := agent.Scan(context.Background(), agent.Options{Source: src, Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range plan.Items {
		out = append(out, it.Path)
	}
	return out
}

func TestSyncLocal(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "dst")
	build(t, src, sampleTree())
	rules := sampleRules(t)
	placed := &placedLog{}
	rep, err := send(t, src, rules, localConnect(dst, placed))
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	checkRun(t, rep, src, dst, rules, placed.take())

	// A second run of the unchanged tree sends no file data.
	rep, err = send(t, src, rules, localConnect(dst, placed))
	if err != nil {
		t.Fatal(err)
	}
	if rep.FilesSent != 0 || rep.PayloadBytes != 0 {
		t.Errorf("unchanged re-run sent %d files, %d bytes; want none", rep.FilesSent, rep.PayloadBytes)
	}
	if !rep.Committed.Complete {
		t.Errorf("re-run committed %+v, want a complete manifest", rep.Committed)
	}
	sameTree(t, src, dst)
}

func TestSyncQUIC(t *testing.T) {
	src := t.TempDir()
	build(t, src, sampleTree())
	rules := sampleRules(t)
	dev, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	h := startHub(t, map[identity.ID]string{dev.ID: "edge-1"})
	connect := agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0)
	rep, err := send(t, src, rules, connect)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(h.root, "edge-1")
	sameTree(t, src, dst)
	checkRun(t, rep, src, dst, rules, h.placed.take())
	if rep.WireBytes < rep.PayloadBytes {
		t.Errorf("wire bytes %d below payload %d", rep.WireBytes, rep.PayloadBytes)
	}

	rep, err = send(t, src, rules, connect)
	if err != nil {
		t.Fatal(err)
	}
	if rep.FilesSent != 0 || rep.PayloadBytes != 0 {
		t.Errorf("unchanged re-run sent %d files, %d bytes; want none", rep.FilesSent, rep.PayloadBytes)
	}

	// A changed file, a deleted file and a new one: the deleted file goes
	// to the trash only after the commit, and only changes are sent.
	if err := os.WriteFile(filepath.Join(src, "config/site.conf"), []byte("site = south\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(src, "logs/log-03.txt")); err != nil {
		t.Fatal(err)
	}
	build(t, src, []node{{path: "logs/new.txt", data: "new"}})
	rep, err = send(t, src, rules, connect)
	if err != nil {
		t.Fatal(err)
	}
	if rep.FilesSent != 2 {
		t.Errorf("sent %d files after two changes, want 2", rep.FilesSent)
	}
	sameTree(t, src, dst)
	if m, _ := filepath.Glob(filepath.Join(dst, ".ferry/trash/*/logs/log-03.txt")); len(m) != 1 {
		t.Errorf("deleted file not in the trash: %v", m)
	}
}

// checkRun checks a first run: the commit, the placement order against the
// plan and the receiver's manifest against the source.
func checkRun(t *testing.T, rep agent.Report, src, dst string, rules prioritize.Rules, placed []string) {
	t.Helper()
	if !rep.Committed.Complete || len(rep.Failed) != 0 {
		t.Errorf("committed %+v, failed %v; want a complete manifest", rep.Committed, rep.Failed)
	}
	if rep.CriticalElapsed <= 0 || rep.CriticalElapsed > rep.Elapsed {
		t.Errorf("critical files durable after %v of %v", rep.CriticalElapsed, rep.Elapsed)
	}
	// Every placed path appears in plan order (files the receiver already
	// had, like the empty-directory entries, are not placed).
	plan := planOrder(t, src, rules)
	pos := make(map[string]int)
	for i, p := range plan {
		pos[p] = i
	}
	last := -1
	for _, p := range placed {
		i, ok := pos[p]
		if !ok {
			t.Errorf("placed %s, which is not in the plan", p)
			continue
		}
		if i < last {
			t.Errorf("placed %s (plan position %d) after position %d: %v", p, i, last, placed)
		}
		last = i
	}
	if len(placed) < 3 || !slices.Contains(placed[:3], "zz/state/alarm.json") {
		t.Errorf("critical files not placed first: %v", placed[:min(5, len(placed))])
	}

	root, err := os.OpenRoot(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	m, err := receiver.ReadManifest(root, rep.Committed.Seq)
	if err != nil {
		t.Fatal(err)
	}
	files := listTree(t, src)
	if len(m.Entries) != len(files) {
		t.Errorf("manifest lists %d entries, source has %d", len(m.Entries), len(files))
	}
	for _, e := range m.Entries {
		f, ok := files[e.Path]
		if !ok {
			t.Errorf("manifest lists %s, not in the source", e.Path)
			continue
		}
		if e.Kind == "file" && (e.Hash == nil || *e.Hash != scan.Sum(blake3Sum(f.data))) {
			t.Errorf("manifest hash of %s does not match the source", e.Path)
		}
	}
}
