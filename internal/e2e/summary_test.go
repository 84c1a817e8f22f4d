package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/prioritize"
)

// TestUnchangedRerun: with the sender's hash cache warm, an unchanged tree
// is settled by bucket digests without one offer, and writes no new
// manifest; one changed file costs the offers of its bucket only.
func TestUnchangedRerun(t *testing.T) {
	src := t.TempDir()
	var ns []node
	for i := range 2000 {
		ns = append(ns, node{path: fmt.Sprintf("d%02d/f%04d.txt", i%50, i), data: fmt.Sprintf("file %d\n", i)})
	}
	build(t, src, ns)
	// Hashes of files modified in the last seconds are not cached (they
	// could change again within the timestamp's resolution): age them.
	old := mustAge(t, src)
	dev, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	h := startHub(t, map[identity.ID]string{dev.ID: "edge"})
	connect := agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0)
	cache := filepath.Join(t.TempDir(), "cache")
	run := func() agent.Report {
		t.Helper()
		rep, err := sendCached(t, src, cache, connect)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	first := run()
	second := run()
	if second.Offered != 0 || second.PayloadBytes != 0 {
		t.Errorf("unchanged re-run offered %d entries, sent %d bytes; want none", second.Offered, second.PayloadBytes)
	}
	if second.Committed.Seq != first.Committed.Seq {
		t.Errorf("unchanged re-run committed manifest %d after %d; want the same restore point", second.Committed.Seq, first.Committed.Seq)
	}
	t.Logf("unchanged re-run of %d entries: %d wire bytes in %v (first run %d in %v)", len(ns), second.WireBytes, second.Elapsed, first.WireBytes, first.Elapsed)

	p := filepath.Join(src, "d07/f0007.txt")
	if err := os.WriteFile(p, []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, old, old)
	third := run()
	if third.FilesSent != 1 || third.Offered > 3*16 {
		t.Errorf("one changed file: sent %d files, offered %d entries; want 1 file and one bucket's offers", third.FilesSent, third.Offered)
	}
	sameTree(t, src, filepath.Join(h.root, "edge"))
	t.Logf("one changed file: %d offers, %d wire bytes", third.Offered, third.WireBytes)
}

func sendCached(t *testing.T, src, cache string, connect agent.Connect) (agent.Report, error) {
	t.Helper()
	return sendOpt(t, agent.Options{Source: src, CacheFile: cache}, connect)
}

func sendOpt(t *testing.T, opt agent.Options, connect agent.Connect) (agent.Report, error) {
	t.Helper()
	if opt.Rules.Critical == nil {
		opt.Rules = prioritize.Rules{}
	}
	plan, err := agent.Scan(t.Context(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return agent.Send(t.Context(), timeNow(), plan, opt, connect)
}
