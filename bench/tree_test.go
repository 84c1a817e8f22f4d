package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	// Atomically, so that a poller never sees a half-written file.
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for _, d := range []string{src, dst} {
		write(t, d, "a/x.log", "hello")
		write(t, d, "zz-site/state/s.json", "{}")
	}
	write(t, dst, ".ferry/HEAD", "1")
	want, err := ReadTree(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	ignore := func(rel string) bool { return rel == ".ferry" }
	if err := Verify(want, dst, ignore); err != nil {
		t.Fatalf("identical trees: %v", err)
	}
	if err := Verify(want, dst, nil); err == nil || !strings.Contains(err.Error(), "extra .ferry/HEAD") {
		t.Errorf("state not ignored: %v", err)
	}
	write(t, dst, "a/x.log", "hellO")
	if err := Verify(want, dst, ignore); err == nil || !strings.Contains(err.Error(), "content a/x.log") {
		t.Errorf("changed byte: %v", err)
	}
	write(t, dst, "a/x.log", "hell")
	os.Remove(filepath.Join(dst, "zz-site/state/s.json"))
	err = Verify(want, dst, ignore)
	if err == nil || !strings.Contains(err.Error(), "size a/x.log: 4, want 5") || !strings.Contains(err.Error(), "missing zz-site/state/s.json") {
		t.Errorf("short and missing: %v", err)
	}
}

// The poller times the critical files, sees the whole tree complete, and
// flags a partial file at a final path but not the previous version of a
// file nor a temporary file beside it.
func TestPoller(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	write(t, src, "logs/a.log", strings.Repeat("a", 1000))
	write(t, src, "db/x.db", "new version")
	write(t, src, "zz-site/state/s.json", `{"ok":true}`)
	write(t, dst, "db/x.db", "old version")
	want, _ := ReadTree(src, nil)
	p := NewPoller(dst, want, IsCritical)
	p.Interval = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx, time.Now()); close(done) }()
	step := func(f func()) { time.Sleep(30 * time.Millisecond); f() }

	step(func() { write(t, dst, "logs/.a.log.XyZ123", "aaa") }) // rsync's temporary name
	step(func() { write(t, dst, "zz-site/state/s.json", `{"ok":true}`) })
	step(func() {
		if r := p.Result(); r.Critical < 0 || r.All >= 0 || len(r.Torn) != 0 {
			t.Errorf("after the critical file: %+v", r)
		}
	})
	step(func() { write(t, dst, "logs/a.log", strings.Repeat("a", 400)) }) // torn
	step(func() { write(t, dst, "logs/a.log", strings.Repeat("a", 1000)) })
	step(func() { write(t, dst, "db/x.db", "new version") })
	step(func() {})
	cancel()
	<-done
	r := p.Result()
	if r.Critical < 0 || r.All < r.Critical {
		t.Errorf("critical %v, all %v", r.Critical, r.All)
	}
	if len(r.Torn) != 1 || r.Torn[0] != "logs/a.log" {
		t.Errorf("torn = %v, want [logs/a.log]", r.Torn)
	}
	if r.Polls < 5 {
		t.Errorf("only %d polls", r.Polls)
	}
}
