package receiver

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// recClasses is a tree of critical, normal and bulk files, version v.
func recClasses(v uint64) (crit, norm, bulk []recFile) {
	crit = []recFile{
		{path: "state/alarm.json", data: recData("alarm", v, 40), class: 0},
		{path: "state/device.json", data: recData("device", v, 2*recChunk+3), class: 0},
	}
	norm = []recFile{
		{path: "config/site.conf", data: recData("site", v, 100), class: 1},
		{path: "logs/today.log", data: recData("today", v, 3*recChunk), class: 1},
	}
	bulk = []recFile{
		{path: "media/video.bin", data: recData("video", v, 6*recChunk+9), class: 2},
	}
	return crit, norm, bulk
}

func recHashes(fs ...[]recFile) map[string]scan.Sum {
	out := make(map[string]scan.Sum)
	for _, l := range fs {
		for _, f := range l {
			out[f.path] = f.hash()
		}
	}
	return out
}

// recRun sends the classes in order on a new session, with ClassDone after
// each but the last, and commits. It returns how many files were sent.
func recRun(t *testing.T, st *Store, classes ...[]recFile) (sent int) {
	t.Helper()
	ss := recBegin(t, st)
	defer ss.Close()
	id := uint64(0)
	for i, c := range classes {
		for _, f := range c {
			id++
			if recSendFile(t, ss, f, id) >= 0 {
				sent++
			}
		}
		if i < len(classes)-1 {
			if err := ss.ClassDone(context.Background(), uint8(i)); err != nil {
				t.Fatalf("class %d done: %v", i, err)
			}
		}
	}
	recCommit(t, ss, id, true)
	return sent
}

func recPointsString(pts []Point) string {
	var b strings.Builder
	for _, p := range pts {
		fmt.Fprintf(&b, "  seq %d %s class %d files %d complete %v\n", p.Seq, p.Kind, p.Class, p.Files, p.Complete)
	}
	return b.String()
}

// recCheckPoints compares dir's restore points with want (seq, kind,
// files; class for class-done points).
func recCheckPoints(t *testing.T, dir string, want []Point) {
	t.Helper()
	pts, err := Points(dir)
	if err != nil {
		t.Fatalf("points: %v", err)
	}
	want = slices.Clone(want)
	for i := range want {
		want[i].Complete = want[i].Kind == KindComplete
	}
	ok := len(pts) == len(want)
	for i := 0; ok && i < len(want); i++ {
		p, w := pts[i], want[i]
		ok = p.Seq == w.Seq && p.Kind == w.Kind && p.Files == w.Files && p.Class == w.Class &&
			p.Complete == w.Complete && !p.Time.IsZero()
	}
	if !ok {
		t.Errorf("restore points:\n%swant:\n%s", recPointsString(pts), recPointsString(want))
	}
}

// recCheckManifest fails t unless manifest seq is of kind and lists
// exactly the files of want, with their hashes.
func recCheckManifest(t *testing.T, dir string, seq uint64, kind string, want map[string]scan.Sum) {
	t.Helper()
	m := recReadManifest(t, dir, seq)
	if m.Kind != kind {
		t.Errorf("manifest %d is a %s manifest, want %s", seq, m.Kind, kind)
	}
	got := recManifestFiles(m)
	if !maps.Equal(got, want) {
		t.Errorf("manifest %d lists %v, want %v", seq, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		for p, h := range want {
			if g, ok := got[p]; ok && g != h {
				t.Errorf("manifest %d: %s with hash %v, want %v", seq, p, g, h)
			}
		}
	}
}

func recManifestCount(t *testing.T, dir string) int {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(manifestDir)))
	if err != nil {
		t.Fatal(err)
	}
	return len(des)
}

// TestRestorePoints: a session commits a checkpoint after each class that
// placed something, and a complete manifest at the end; an unchanged
// re-run commits no checkpoint.
func TestRestorePoints(t *testing.T) {
	dir := t.TempDir()
	st := recOpen(t, dir, Options{})
	defer st.Close()
	crit, norm, bulk := recClasses(1)
	if n := recRun(t, st, crit, norm, bulk); n != 5 {
		t.Fatalf("first run sent %d files, want 5", n)
	}
	recCheckManifest(t, dir, 1, KindCheckpoint, recHashes(crit))
	recCheckManifest(t, dir, 2, KindCheckpoint, recHashes(crit, norm))
	recCheckManifest(t, dir, 3, KindComplete, recHashes(crit, norm, bulk))
	points := []Point{
		{Seq: 1, Kind: KindCheckpoint, Files: 2},
		{Seq: 2, Kind: KindCheckpoint, Files: 4},
		{Seq: 3, Kind: KindComplete, Files: 5},
	}
	recCheckPoints(t, dir, points)

	// Unchanged: no checkpoint, and no new manifest either, the last one
	// still describes the tree. (The class ends it journals may show as
	// lightweight points until the next commit.)
	ss := recBegin(t, st)
	id := uint64(0)
	for i, c := range [][]recFile{crit, norm, bulk} {
		for _, f := range c {
			id++
			if got := recSendFile(t, ss, f, id); got != -1 {
				t.Errorf("unchanged re-run: %s sent from %d", f.path, got)
			}
		}
		if i < 2 {
			if err := ss.ClassDone(context.Background(), uint8(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if c := recCommit(t, ss, id, true); c.Seq != 3 || !c.Complete {
		t.Errorf("unchanged re-run committed %+v, want manifest 3 again", c)
	}
	ss.Close()
	if n := recManifestCount(t, dir); n != 3 {
		t.Errorf("%d manifests after an unchanged re-run, want 3", n)
	}
	recCheckPoints(t, dir, recManifestPoints(t, dir, points))

	// Only a bulk file changed: nothing placed in the classes before it,
	// so no checkpoint either.
	_, _, bulk2 := recClasses(2)
	if n := recRun(t, st, crit, norm, bulk2); n != 1 {
		t.Errorf("re-run with a changed bulk file sent %d files, want 1", n)
	}
	recCheckManifest(t, dir, 4, KindComplete, recHashes(crit, norm, bulk2))
	points = append(points, Point{Seq: 4, Kind: KindComplete, Files: 5})
	recCheckPoints(t, dir, points)

	// A normal file changed: a checkpoint after the normal class only.
	norm2 := slices.Clone(norm)
	norm2[1] = recFile{path: norm[1].path, data: recData("today", 2, 3*recChunk+1), class: 1}
	if n := recRun(t, st, crit, norm2, bulk2); n != 1 {
		t.Errorf("re-run with a changed normal file sent %d files, want 1", n)
	}
	recCheckManifest(t, dir, 5, KindCheckpoint, recHashes(crit, norm2, bulk2))
	recCheckManifest(t, dir, 6, KindComplete, recHashes(crit, norm2, bulk2))
	points = append(points, Point{Seq: 5, Kind: KindCheckpoint, Files: 5}, Point{Seq: 6, Kind: KindComplete, Files: 5})
	recCheckPoints(t, dir, points)
}

// recManifestPoints returns want followed by dir's lightweight points:
// for comparing only the manifests among the points.
func recManifestPoints(t *testing.T, dir string, want []Point) []Point {
	t.Helper()
	pts, err := Points(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := slices.Clone(want)
	for _, p := range pts {
		if p.Kind == "class-done" {
			out = append(out, p)
		}
	}
	return out
}

// TestRestorePointInterrupted: a run cut after its critical class leaves a
// checkpoint of the new critical files and the previous versions of the
// rest, and the next run resumes the file that was in flight.
func TestRestorePointInterrupted(t *testing.T) {
	dir := t.TempDir()
	st := recOpen(t, dir, Options{})
	crit1, norm1, bulk1 := recClasses(1)
	recRun(t, st, crit1, norm1, bulk1) // manifests 1 to 3, the last complete
	crit2, norm2, _ := recClasses(2)

	ss := recBegin(t, st)
	id := uint64(0)
	for _, f := range crit2 {
		id++
		recSendFile(t, ss, f, id)
	}
	if err := ss.ClassDone(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	id++
	o := norm2[1].offer(id)
	if r := recOffer(t, ss, o); r.Offset != 0 {
		t.Fatalf("offer answered %+v", r)
	}
	recWrite(t, ss, o, norm2[1].data, 0, 2*recChunk)
	// The link drops.
	if err := ss.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	want := recHashes(crit2, norm1, bulk1)
	recCheckManifest(t, dir, 4, KindCheckpoint, want)
	for _, f := range crit2 {
		recLive(t, dir, f.path, f.data)
	}
	for _, f := range norm1 {
		recLive(t, dir, f.path, f.data)
	}
	pts, err := Points(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) < 1 || pts[len(pts)-1].Kind == KindComplete {
		t.Fatalf("points after an interrupted run:\n%s", recPointsString(pts))
	}
	if i := slices.IndexFunc(pts, func(p Point) bool { return p.Seq == 4 && p.Kind == KindCheckpoint }); i < 0 || pts[i].Files != 5 {
		t.Errorf("no checkpoint 4 of 5 files among the points:\n%s", recPointsString(pts))
	}
	if !slices.ContainsFunc(pts, func(p Point) bool { return p.Kind == "class-done" && p.Class == 0 }) {
		t.Errorf("no class-done point for the critical class among the points of a run interrupted after it:\n%s", recPointsString(pts))
	}

	// The next run skips the critical files and resumes the normal one.
	st = recOpen(t, dir, Options{})
	defer st.Close()
	ss = recBegin(t, st)
	defer ss.Close()
	id = 0
	for _, f := range crit2 {
		id++
		if got := recSendFile(t, ss, f, id); got != -1 {
			t.Errorf("%s: sent again from %d", f.path, got)
		}
	}
	id++
	if got := recSendFile(t, ss, norm2[1], id); got != 2*recChunk {
		t.Errorf("%s: resumed at %d, want %d", norm2[1].path, got, 2*recChunk)
	}
}

// TestClassDoneOverTheWire drives transfer.Receive with a scripted sender
// and checks the checkpoint a class end commits: it lists exactly the
// files of the finished classes (and previous versions of the others),
// whatever the sender offered ahead.
func TestClassDoneOverTheWire(t *testing.T) {
	crit, norm, _ := recClasses(1)
	empty := recFile{path: "config/empty.conf", class: 1}

	t.Run("next class offered after the critical data", func(t *testing.T) {
		dir := t.TempDir()
		st := recOpen(t, dir, Options{})
		defer st.Close()
		ss := recBegin(t, st)
		defer ss.Close()
		w := recStartWire(t, context.Background(), ss, false)
		for i, f := range crit {
			if s := w.file(f, uint64(i+1)); s.Code != transfer.CodeOK {
				t.Fatalf("%s: %+v", f.path, s)
			}
		}
		// The critical class is complete; the first normal file starts
		// and the run is interrupted.
		r := w.offer(norm[1].offer(3))
		w.chunks(3, norm[1].data, r.Offset, recChunk)
		if err := w.interrupt(); !recIsCanceled(err) {
			t.Errorf("interrupted session ended with %v", err)
		}
		pts, err := Points(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(pts) == 0 {
			t.Fatalf("no restore point after the critical class was placed and the normal class began")
		}
		recCheckManifest(t, dir, 1, KindCheckpoint, recHashes(crit))
	})

	t.Run("data-less entries of the next class offered ahead", func(t *testing.T) {
		dir := t.TempDir()
		st := recOpen(t, dir, Options{})
		defer st.Close()
		ss := recBegin(t, st)
		defer ss.Close()
		w := recStartWire(t, context.Background(), ss, false)
		// The sender offers ahead: the last critical file, then the
		// normal class, smallest (empty) first.
		r1 := w.offer(crit[1].offer(1))
		w.offerLater(empty.offer(2))
		r3 := w.offer(norm[1].offer(3))
		w.chunks(1, crit[1].data, r1.Offset, int64(len(crit[1].data)))
		if s := w.status(); s.ID != 1 || s.Code != transfer.CodeOK {
			t.Fatalf("critical file: %+v", s)
		}
		if r, err := transfer.DecodeReply(w.expect(transfer.TypeReply)); err != nil || r.ID != 2 || r.Action != transfer.Skip {
			t.Fatalf("empty file: reply %+v, %v", r, err)
		}
		w.chunks(3, norm[1].data, r3.Offset, recChunk)
		if err := w.interrupt(); !recIsCanceled(err) {
			t.Errorf("interrupted session ended with %v", err)
		}
		recCheckManifest(t, dir, 1, KindCheckpoint, recHashes(crit[1:]))
	})
}
