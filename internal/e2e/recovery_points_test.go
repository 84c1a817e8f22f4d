package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/prioritize"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// rcvClassTree has two critical files, normal files (a small one first)
// and bulk files, version v.
func rcvClassTree(v uint64) []node {
	return []node{
		{path: "state/alarm.json", size: 30, seeded: v},
		{path: "state/device.json", size: 3*rcvChunk + 1, seeded: v},
		{path: "config/site.conf", size: 50, seeded: v},
		{path: "db/events.dat", size: 8 * rcvChunk, seeded: v},
		{path: "media/a.bin", size: 6 * rcvChunk, seeded: v},
		{path: "media/b.bin", size: 7*rcvChunk + 5, seeded: v},
	}
}

var (
	rcvCritical = []string{"state/alarm.json", "state/device.json"}
	rcvNormal   = []string{"config/site.conf", "db/events.dat"}
	rcvBulk     = []string{"media/a.bin", "media/b.bin"}
)

func rcvRules(t *testing.T) prioritize.Rules {
	t.Helper()
	r, err := prioritize.ParseRules(strings.NewReader("critical state/**\nbulk media/**\n"), "recovery.rules")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rcvSendRules syncs src to dst under rules, cancelling the run when stop
// returns true for an event.
func rcvSendRules(t *testing.T, src, dst string, rules prioritize.Rules, stop func(transfer.Event) bool) (agent.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opt := agent.Options{Source: src, Rules: rules, ChunkSize: rcvChunk}
	if stop != nil {
		opt.Events = func(e transfer.Event) {
			if stop(e) {
				cancel()
			}
		}
	}
	plan, err := agent.Scan(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	return agent.Send(ctx, time.Now(), plan, opt, localConnect(dst, nil))
}

func rcvPoints(t *testing.T, dst string) []receiver.Point {
	t.Helper()
	pts, err := receiver.Points(dst)
	if err != nil {
		t.Fatal(err)
	}
	return pts
}

// rcvManifests returns the committed manifests among pts.
func rcvManifests(pts []receiver.Point) []receiver.Point {
	var out []receiver.Point
	for _, p := range pts {
		if p.Kind != "class-done" {
			out = append(out, p)
		}
	}
	return out
}

func rcvPointsString(pts []receiver.Point) string {
	var b strings.Builder
	for _, p := range pts {
		fmt.Fprintf(&b, "  seq %d %s class %d files %d complete %v\n", p.Seq, p.Kind, p.Class, p.Files, p.Complete)
	}
	return b.String()
}

// rcvHashOf returns the hash of version v of a node of rcvClassTree.
func rcvHashOf(p string, v uint64) scan.Sum {
	for _, n := range rcvClassTree(v) {
		if n.path == p {
			return blake3Sum(randomBytes(n.path, v, n.size))
		}
	}
	panic("no node " + p)
}

// rcvCheckListed fails t unless m lists each of paths at version v.
func rcvCheckListed(t *testing.T, m *receiver.Manifest, v uint64, paths ...string) {
	t.Helper()
	for _, p := range paths {
		e, ok := rcvEntry(m, p)
		if !ok || e.Hash == nil || *e.Hash != rcvHashOf(p, v) {
			t.Errorf("manifest %d (%s): %s not listed at version %d", m.Seq, m.Kind, p, v)
		}
	}
}

// rcvCheckNotListed fails t if m lists any of paths.
func rcvCheckNotListed(t *testing.T, m *receiver.Manifest, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, ok := rcvEntry(m, p); ok {
			t.Errorf("manifest %d (%s) lists %s, which was not placed yet", m.Seq, m.Kind, p)
		}
	}
}

// TestRecoveryRestorePoints runs a sync with critical, normal and bulk
// files through the real sender: checkpoints after the critical and the
// normal class, a complete manifest at the end, none for an unchanged
// re-run; and a run interrupted after the critical class leaves a
// checkpoint with the new critical files and previous versions of the rest.
func TestRecoveryRestorePoints(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "dst")
	build(t, src, rcvClassTree(1))
	rules := rcvRules(t)
	rep, err := rcvSendRules(t, src, dst, rules, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	pts := rcvManifests(rcvPoints(t, dst))
	if len(pts) != 3 || pts[0].Kind != receiver.KindCheckpoint || pts[1].Kind != receiver.KindCheckpoint ||
		pts[2].Kind != receiver.KindComplete || pts[2].Files != 6 || !pts[2].Complete || pts[2].Seq != rep.Committed.Seq {
		t.Fatalf("points after the first run:\n%swant two checkpoints and a complete manifest of 6 files", rcvPointsString(pts))
	}
	for i := range pts[1:] {
		if pts[i+1].Seq <= pts[i].Seq {
			t.Errorf("points out of order:\n%s", rcvPointsString(pts))
		}
	}
	// The exact content of each checkpoint depends on how far the sender
	// offered ahead (see the receiver's tests); every one holds its
	// classes and nothing of the bulk class before it began.
	cp1, cp2 := rcvManifest(t, dst, pts[0].Seq), rcvManifest(t, dst, pts[1].Seq)
	rcvCheckListed(t, cp1, 1, rcvCritical...)
	rcvCheckNotListed(t, cp1, rcvBulk...)
	rcvCheckListed(t, cp2, 1, rcvCritical...)
	rcvCheckListed(t, cp2, 1, rcvNormal...)
	if cp2.Files >= 6 {
		t.Errorf("checkpoint after the normal class lists %d files, the whole tree", cp2.Files)
	}

	// An unchanged re-run: no checkpoint, and no new manifest either; the
	// last one still describes the tree.
	rep, err = rcvSendRules(t, src, dst, rules, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Committed.Seq != pts[2].Seq || !rep.Committed.Complete {
		t.Errorf("unchanged re-run committed %+v, want manifest %d again", rep.Committed, pts[2].Seq)
	}
	if m := rcvManifests(rcvPoints(t, dst)); len(m) != 3 {
		t.Errorf("manifests after an unchanged re-run:\n%swant the first run's", rcvPointsString(m))
	}

	// Everything changes; the run is cut inside the big normal file.
	build(t, src, rcvClassTree(2))
	_, err = rcvSendRules(t, src, dst, rules, func(e transfer.Event) bool {
		return e.Kind == transfer.EventProgress && e.Item.Path == "db/events.dat"
	})
	if err == nil {
		t.Fatal("interrupted run committed")
	}
	pts3 := rcvManifests(rcvPoints(t, dst))
	if len(pts3) != 4 || pts3[3].Kind != receiver.KindCheckpoint {
		t.Fatalf("no checkpoint from a run interrupted after its critical class:\n%s", rcvPointsString(pts3))
	}
	cp := rcvManifest(t, dst, pts3[3].Seq)
	rcvCheckListed(t, cp, 2, rcvCritical...)
	rcvCheckListed(t, cp, 1, "db/events.dat")
	rcvCheckListed(t, cp, 1, rcvBulk...)

	// And the next run completes it.
	if _, err := rcvSendRules(t, src, dst, rules, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
}
