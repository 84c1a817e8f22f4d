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

// unchangedBudget bounds an unchanged re-run over QUIC, handshake included,
// in UDP payload bytes both ways. quic-go pads three handshake datagrams to
// 1200 bytes (the client's first and second flights, the hub's first), so
// no QUIC run costs less than 3,600 bytes; a resumed session adds about 400.
const unchangedBudget = 4 << 10

// TestUnchangedRerun: with the sender's hash cache warm, an unchanged tree
// of 10,000 files is settled by one digest in one round trip after a
// resumed handshake, without one offer and without a new manifest; one
// changed file costs the offers of its bucket only.
func TestUnchangedRerun(t *testing.T) {
	src := t.TempDir()
	var ns []node
	for i := range 10_000 {
		ns = append(ns, node{path: fmt.Sprintf("d%02d/f%05d.txt", i%50, i), data: fmt.Sprintf("file %d\n", i)})
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
	m := meterWire(t, h.addr)
	connect := agent.QUIC(m.addr, dev.ClientConfig(h.id.ID), 0)
	cache := filepath.Join(t.TempDir(), "cache")
	run := func() (agent.Report, int64) {
		t.Helper()
		var rep agent.Report
		var err error
		wire := m.during(func() { rep, err = sendCached(t, src, cache, connect) })
		if err != nil {
			t.Fatal(err)
		}
		return rep, wire
	}
	first, firstWire := run()
	second, wire := run()
	if second.Offered != 0 || second.PayloadBytes != 0 {
		t.Errorf("unchanged re-run offered %d entries, sent %d bytes; want none", second.Offered, second.PayloadBytes)
	}
	if second.Committed.Seq != first.Committed.Seq || !second.Committed.Complete {
		t.Errorf("unchanged re-run reported restore point %+v after %+v; want the same, complete", second.Committed, first.Committed)
	}
	t.Logf("unchanged re-run of %d entries: %d bytes of UDP payload in %v (first run %d in %v)", len(ns), wire, second.Elapsed, firstWire, first.Elapsed)
	if wire > unchangedBudget {
		t.Errorf("unchanged re-run cost %d bytes of UDP payload, want at most %d", wire, unchangedBudget)
	}

	p := filepath.Join(src, "d07/f00007.txt")
	if err := os.WriteFile(p, []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, old, old)
	third, wire := run()
	if third.FilesSent != 1 || third.Offered > 3*16 {
		t.Errorf("one changed file: sent %d files, offered %d entries; want 1 file and one bucket's offers", third.FilesSent, third.Offered)
	}
	sameTree(t, src, filepath.Join(h.root, "edge"))
	t.Logf("one changed file: %d offers, %d bytes of UDP payload", third.Offered, wire)
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
