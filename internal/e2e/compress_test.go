package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/prioritize"
)

// TestCompressedLogs: a tree of text logs costs less than half its size in
// UDP payload, and random data about its size in frames.
func TestCompressedLogs(t *testing.T) {
	src := t.TempDir()
	dev, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	var ns []node
	for i := range 50 {
		var b strings.Builder
		for j := range 400 {
			fmt.Fprintf(&b, "2026-11-%02dT%02d:%02d:00Z pump=%d pressure=%d.%03dbar status=ok\n", i%28+1, j/60%24, j%60, j%4, 2, (i*j)%1000)
		}
		ns = append(ns, node{path: fmt.Sprintf("logs/%02d.log", i), data: b.String()})
	}
	build(t, src, ns)
	h := startHub(t, map[identity.ID]string{dev.ID: "edge"})
	m := meterWire(t, h.addr)
	var rep agent.Report
	wire := m.during(func() {
		rep, err = send(t, src, prioritize.Rules{}, agent.QUIC(m.addr, dev.ClientConfig(h.id.ID), 0))
	})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, filepath.Join(h.root, "edge"))
	t.Logf("logs of %d bytes cost %d bytes of UDP payload", rep.PayloadBytes, wire)
	if wire*2 > rep.PayloadBytes {
		t.Errorf("logs of %d bytes cost %d bytes of UDP payload, want less than half", rep.PayloadBytes, wire)
	}

	src2, dst2 := t.TempDir(), filepath.Join(t.TempDir(), "dst2")
	build(t, src2, []node{{path: "noise.bin", size: 2 << 20}})
	rep, err = send(t, src2, prioritize.Rules{}, localConnect(dst2, nil))
	if err != nil {
		t.Fatal(err)
	}
	if over := float64(rep.WireBytes)/float64(rep.PayloadBytes) - 1; over > 0.01 {
		t.Errorf("random data cost %.2f%% above its size in frames", over*100)
	}
}

// TestRandomOverQUIC: incompressible data costs at most 3% above its size
// in UDP payload both ways, QUIC's framing and ferry's frames included.
func TestRandomOverQUIC(t *testing.T) {
	src := t.TempDir()
	build(t, src, []node{{path: "media/noise.bin", size: 8 << 20}})
	dev, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	// A busy machine drops loopback datagrams and the retransmissions add
	// bytes that are not framing: they are left out, as the link's loss.
	h := startHub(t, map[identity.ID]string{dev.ID: "edge"})
	m := meterWire(t, h.addr)
	var rep agent.Report
	wire := m.during(func() {
		rep, err = sendOpt(t, agent.Options{Source: src}, agent.QUIC(m.addr, dev.ClientConfig(h.id.ID), 0))
	})
	if err != nil {
		t.Fatal(err)
	}
	over := float64(wire-rep.LostBytes)/float64(rep.PayloadBytes) - 1
	t.Logf("%d bytes lost and sent again", rep.LostBytes)
	t.Logf("random data cost +%.2f%% on the wire, retransmissions left out", over*100)
	if over > 0.03 {
		t.Errorf("random data cost %.2f%% above its size on the wire, want at most 3%%", over*100)
	}
}
