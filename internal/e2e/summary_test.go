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

// quicFloor bounds an unchanged re-run over QUIC, handshake included, in
// UDP payload bytes both ways: quic-go pads three handshake datagrams to
// 1200 bytes (the client's first and second flights, the hub's first), and
// the rest of a resumed session adds about 600 (measured 4,225 in all).
const quicFloor = 4608

// TestUnchangedRerun: with the sender's hash cache warm, an unchanged tree
// of 10,000 files is settled by one probe datagram each way, without a
// connection, within 3 KiB; without the probe, by one digest in one round
// trip after a resumed handshake. Neither offers an entry or writes a
// manifest. One changed file costs the offers of its bucket only.
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
	root := t.TempDir()
	h, stop := serveHub(t, root, map[identity.ID]string{dev.ID: "edge"})
	defer func() { stop() }()
	m := meterWire(t, h.addr)
	conf := dev.ClientConfig(h.id.ID)
	cache := filepath.Join(t.TempDir(), "cache")
	probe := &agent.HubProbe{Addr: m.addr, File: filepath.Join(t.TempDir(), "probe")}
	run := func(p *agent.HubProbe) (agent.Report, int64) {
		t.Helper()
		var rep agent.Report
		var err error
		wire := m.during(func() {
			rep, err = sendOpt(t, agent.Options{Source: src, CacheFile: cache, Probe: p}, agent.QUIC(m.addr, conf, 0))
		})
		if err != nil {
			t.Fatal(err)
		}
		return rep, wire
	}
	first, firstWire := run(probe)
	t.Logf("first run of %d entries: %d bytes of UDP payload in %v", len(ns), firstWire, first.Elapsed)
	unchanged := func(name string, rep agent.Report, wire, budget int64) {
		t.Helper()
		if rep.Offered != 0 || rep.PayloadBytes != 0 {
			t.Errorf("%s: offered %d entries, sent %d bytes; want none", name, rep.Offered, rep.PayloadBytes)
		}
		if rep.Committed.Seq != first.Committed.Seq || !rep.Committed.Complete {
			t.Errorf("%s: reported restore point %+v after %+v; want the same, complete", name, rep.Committed, first.Committed)
		}
		t.Logf("%s: %d bytes of UDP payload in %v", name, wire, rep.Elapsed)
		if wire > budget {
			t.Errorf("%s: cost %d bytes of UDP payload, want at most %d", name, wire, budget)
		}
	}
	rep, wire := run(probe)
	if !rep.Probed || rep.Attempts != 0 {
		t.Errorf("unchanged re-run: probed %v after %d connections; want settled by the probe alone", rep.Probed, rep.Attempts)
	}
	unchanged("unchanged re-run", rep, wire, 3<<10)
	rep, wire = run(nil)
	unchanged("unchanged re-run over QUIC", rep, wire, quicFloor)

	// A restarted hub answers probes at once, with the key it kept.
	stop()
	h, stop = serveHubAs(t, root, h.id, h.addr, map[identity.ID]string{dev.ID: "edge"})
	if rep, _ = run(probe); !rep.Probed {
		t.Error("after a hub restart: the probe went unanswered")
	}

	p := filepath.Join(src, "d07/f00007.txt")
	if err := os.WriteFile(p, []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, old, old)
	third, wire := run(probe)
	if third.Probed || third.FilesSent != 1 || third.Offered > 3*16 {
		t.Errorf("one changed file: probed %v, sent %d files, offered %d entries; want 1 file and one bucket's offers", third.Probed, third.FilesSent, third.Offered)
	}
	sameTree(t, src, filepath.Join(root, "edge"))
	t.Logf("one changed file: %d offers, %d bytes of UDP payload", third.Offered, wire)
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
