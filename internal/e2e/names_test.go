package e2e

// Names a hub's file system cannot hold apart (paths that differ only in
// case, where the file system folds case) or cannot hold at all (Windows
// device names and characters), against a real hub over QUIC on
// 127.0.0.1: each is refused alone with an error that names the cause,
// the rest of the sync is committed, nothing is written outside the
// namespace and every committed restore point stays intact (DESIGN.md
// guarantees 5 and 7).
//
// The tests set receiver.FoldCase or receiver.WindowsNames, which are
// package variables, so they are not parallel: Go runs them before it
// resumes the package's parallel tests.

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/transfer"
)

// forceFolding makes the namespaces opened during the test take their file
// system for one that folds case. No file system on the machines these
// tests run on folds case (no vfat or exfat; ext4 casefold needs kernel
// Unicode support, tmpfs casefold fails), so the detection is forced
// through receiver.FoldCase, the seam that exists for this.
func forceFolding(t *testing.T) {
	t.Helper()
	old := receiver.FoldCase
	receiver.FoldCase = func(*os.Root) (bool, error) { return true, nil }
	t.Cleanup(func() { receiver.FoldCase = old })
}

// setWindowsNames sets receiver.WindowsNames for the rest of the test.
func setWindowsNames(t *testing.T, on bool) {
	t.Helper()
	old := receiver.WindowsNames.Load()
	receiver.WindowsNames.Store(on)
	t.Cleanup(func() { receiver.WindowsNames.Store(old) })
}

// namesHub runs a hub whose root is parent/hub, admitting allow and
// logging warnings to log, so that anything written beside the root shows
// up in parent.
func namesHub(t *testing.T, parent string, allow map[identity.ID]string, log *syncBuffer, configure ...func(*receiver.Hub)) *hub {
	t.Helper()
	root := filepath.Join(parent, "hub")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	configure = append(configure, func(rh *receiver.Hub) {
		rh.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	h, stop := serveHub(t, root, allow, configure...)
	t.Cleanup(func() {
		stop()
		t.Logf("hub log:\n%s", log.String())
	})
	return h
}

// loggedRefusal reports whether the hub's log has a line refusing p that
// says say.
func loggedRefusal(hubLog, p, say string) bool {
	q := strconv.Quote(say) // as the log quotes the error
	for _, line := range strings.Split(hubLog, "\n") {
		if strings.Contains(line, "entry refused") && (strings.Contains(line, "path="+p+" ") || strings.Contains(line, "path="+strconv.Quote(p)+" ")) &&
			strings.Contains(line, q[1:len(q)-1]) {
			return true
		}
	}
	return false
}

// manifestBytes returns the bytes of every committed manifest of ns, by
// sequence.
func manifestBytes(t *testing.T, ns string) map[uint64][]byte {
	t.Helper()
	dir := filepath.Join(ns, transfer.StateDir, "manifests")
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[uint64][]byte)
	for _, de := range des {
		seq, err := strconv.ParseUint(strings.TrimSuffix(de.Name(), ".json"), 10, 64)
		if err != nil || !strings.HasSuffix(de.Name(), ".json") {
			continue
		}
		if out[seq], err = os.ReadFile(filepath.Join(dir, de.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// checkPoints fails t unless every manifest in before is still there
// unchanged and the live tree holds the head manifest as it says: each
// file with its BLAKE3, each directory and symlink. Older restore points
// describe files that later syncs may have replaced (SECURITY.md), so
// only their manifests are checked.
func checkPoints(t *testing.T, ns string, before map[uint64][]byte) {
	t.Helper()
	now := manifestBytes(t, ns)
	for seq, b := range before {
		if !bytes.Equal(now[seq], b) {
			t.Errorf("restore point %d changed or vanished", seq)
		}
	}
	m := readHeadManifest(t, ns)
	if m == nil {
		t.Fatal("no restore point")
	}
	for _, e := range m.Entries {
		fp := filepath.Join(ns, filepath.FromSlash(e.Path))
		fi, err := os.Lstat(fp)
		if err != nil {
			t.Errorf("restore point %d lists %s: %v", m.Seq, e.Path, err)
			continue
		}
		switch e.Kind {
		case "dir":
			if !fi.IsDir() {
				t.Errorf("restore point %d lists directory %s, the live tree holds %v", m.Seq, e.Path, fi.Mode())
			}
		case "symlink":
			if target, err := os.Readlink(fp); err != nil || target != e.Target {
				t.Errorf("restore point %d lists %s -> %s, the live tree holds %q, %v", m.Seq, e.Path, e.Target, target, err)
			}
		case "file":
			data, err := os.ReadFile(fp)
			if err != nil || e.Hash == nil || blake3.Sum256(data) != *e.Hash {
				t.Errorf("restore point %d lists %s, the live tree holds other content (%d bytes, %v)", m.Seq, e.Path, len(data), err)
			}
		}
	}
}

// failedBy returns the entries the sender reported failed, by path.
func failedBy(t *testing.T, rep agent.Report) map[string]string {
	t.Helper()
	out := make(map[string]string)
	for _, f := range rep.Failed {
		t.Logf("failed: %s: %v", f.Path, f.Err)
		out[f.Path] = f.Err.Error()
	}
	return out
}

// abandonRefused confirms a file the receiver refused, as a sender does.
func abandonRefused(p *rawPeer, st transfer.Status) {
	p.send(transfer.TypeAbandon, transfer.Status{ID: st.ID, Code: st.Code, Message: st.Message}.Append(nil))
}

// expectRefused reads the reply and the done that refuse file id alone,
// and checks that the done says what.
func expectRefused(p *rawPeer, id uint64, what string) transfer.Status {
	p.t.Helper()
	p.expectReply(id, transfer.Send)
	st := p.expectDone(id)
	p.t.Logf("done %d: code %d: %s", id, st.Code, st.Message)
	if st.Code != transfer.CodeRefused || !strings.Contains(st.Message, what) {
		p.t.Errorf("done %d: code %d %q; want code %d saying %q", id, st.Code, st.Message, transfer.CodeRefused, what)
	}
	return st
}

func TestHostileCaseFold(t *testing.T) {
	forceFolding(t)
	raw, dev := mustIdentity(t), mustIdentity(t)
	var log syncBuffer
	parent := t.TempDir()
	h := namesHub(t, parent, map[identity.ID]string{raw.ID: "raw", dev.ID: "edge"}, &log)

	t.Run("raw", func(t *testing.T) {
		ns := filepath.Join(h.root, "raw")
		upper, lower, other := []byte("upper\n"), []byte("lower, and longer\n"), []byte("other\n")
		p := dialRaw(t, h, raw)
		p.handshake()
		p.offer(rawFileOffer(1, "logs/A.txt", upper))
		p.expectReply(1, transfer.Send)
		p.chunk(1, 0, upper)
		if st := p.expectDone(1); st.Code != transfer.CodeOK {
			t.Fatalf("logs/A.txt: %+v", st)
		}
		// The same name in another case: on a file system that folds
		// case it would overwrite logs/A.txt while the manifest listed
		// both.
		p.offer(rawFileOffer(2, "logs/a.txt", lower))
		abandonRefused(p, expectRefused(p, 2, `path "logs/a.txt" collides with "logs/A.txt" on this case-insensitive file system`))
		// A directory cannot be refused on the wire: it is skipped, not
		// made, and the restore point is partial.
		p.offer(rawDirOffer(3, "Logs"))
		p.expectReply(3, transfer.Skip)
		// A path through another spelling of a directory.
		p.offer(rawFileOffer(4, "LOGS/b.txt", other))
		abandonRefused(p, expectRefused(p, 4, `path "LOGS/b.txt": "LOGS" collides with "logs" on this case-insensitive file system`))
		p.offer(rawFileOffer(5, "other.txt", other))
		p.expectReply(5, transfer.Send)
		p.chunk(5, 0, other)
		if st := p.expectDone(5); st.Code != transfer.CodeOK {
			t.Fatalf("other.txt: %+v", st)
		}
		p.mustSend(transfer.TypeCommit, transfer.Commit{Entries: 5, Complete: true}.Append(nil))
		if c := p.expectCommitted(); c.Complete || c.Files != 2 {
			t.Errorf("committed %+v, want a partial restore point of 2 files", c)
		}
		if got, want := liveTree(t, ns), []string{"logs", "logs/A.txt", "other.txt"}; !slices.Equal(got, want) {
			t.Errorf("live tree %v, want %v", got, want)
		}
		if got, _ := os.ReadFile(filepath.Join(ns, "logs", "A.txt")); !bytes.Equal(got, upper) {
			t.Errorf("logs/A.txt holds %q, want %q", got, upper)
		}
		if got, want := manifestPaths(readHeadManifest(t, ns)), []string{"logs/A.txt", "other.txt"}; !slices.Equal(got, want) {
			t.Errorf("restore point lists %v, want %v", got, want)
		}
		checkPoints(t, ns, nil)
	})

	t.Run("agent", func(t *testing.T) {
		// A Linux device may hold both spellings; the hub keeps the one
		// offered first and refuses the other, and the sync goes on.
		ns := filepath.Join(h.root, "edge")
		src := t.TempDir()
		build(t, src, []node{
			{path: "state/alarm.json", data: `{"alarm":"on"}`},
			{path: "logs/A.txt", data: "upper\n"},
			{path: "logs/a.txt", data: "lower\n"},
			{path: "Docs/x.txt", data: "x\n"},
			{path: "docs/y.txt", data: "y\n"},
		})
		rep, err := hostileSync(t, src, agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0))
		if err != nil {
			t.Fatalf("sync: %v", err)
		}
		if rep.Committed.Complete {
			t.Errorf("committed %+v, want a partial restore point", rep.Committed)
		}
		failed := failedBy(t, rep)
		listed := manifestPaths(readHeadManifest(t, ns))
		for _, pair := range [][2]string{{"logs/A.txt", "logs/a.txt"}, {"Docs/x.txt", "docs/y.txt"}} {
			kept, refused := pair[0], pair[1]
			if _, ok := failed[kept]; ok {
				kept, refused = refused, kept
			}
			why, ok := failed[refused]
			if !ok {
				t.Errorf("neither %s nor %s was refused", pair[0], pair[1])
				continue
			}
			theirs := kept
			if !strings.EqualFold(kept, refused) {
				theirs = path.Dir(kept) // the directories collide
			}
			if want := fmt.Sprintf("collides with %q on this case-insensitive file system", theirs); !strings.Contains(why, want) {
				t.Errorf("%s refused with %q, want it to say %q", refused, why, want)
			}
			if !slices.Contains(listed, kept) || slices.Contains(listed, refused) {
				t.Errorf("restore point lists %v; want %s and not %s", listed, kept, refused)
			}
			if _, err := os.Lstat(filepath.Join(ns, refused)); err == nil {
				t.Errorf("refused %s is in the live tree", refused)
			}
		}
		if len(failed) != 2 {
			t.Errorf("%d entries failed, want 2", len(failed))
		}
		if !slices.Contains(listed, "state/alarm.json") {
			t.Errorf("restore point lists %v, without state/alarm.json", listed)
		}
		checkPoints(t, ns, nil)
	})

	checkConfined(t, parent, h.root, "raw", "edge")
}

// foldLinks stands in for a file system that folds case on one that does
// not: after the hub places a file, every other spelling of its name in
// its directory becomes a hard link to it, as if both named one file.
// (Directories are not emulated.)
func foldLinks(t *testing.T, ns string) func(string) {
	return func(p string) {
		dir := filepath.Join(ns, filepath.Dir(filepath.FromSlash(p)))
		des, err := os.ReadDir(dir)
		if err != nil {
			t.Errorf("emulate folding after %s: %v", p, err)
			return
		}
		for _, de := range des {
			name := de.Name()
			if name == path.Base(p) || strings.ToLower(name) != strings.ToLower(path.Base(p)) || !de.Type().IsRegular() {
				continue
			}
			other := filepath.Join(dir, name)
			if err := os.Remove(other); err != nil {
				t.Errorf("emulate folding after %s: %v", p, err)
			}
			if err := os.Link(filepath.Join(ns, filepath.FromSlash(p)), other); err != nil {
				t.Errorf("emulate folding after %s: %v", p, err)
			}
		}
	}
}

// checkNotTrashed fails t if the trash of ns holds the file at p: on a file
// system that folds case, moving the old spelling there takes the file the
// restore point lists out of the live tree.
func checkNotTrashed(t *testing.T, ns, p string) {
	t.Helper()
	live, err := os.Stat(filepath.Join(ns, filepath.FromSlash(p)))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	trash := filepath.Join(ns, transfer.StateDir, "trash")
	filepath.WalkDir(trash, func(fp string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if fi, err := os.Stat(fp); err == nil && os.SameFile(fi, live) {
			rel, _ := filepath.Rel(ns, fp)
			t.Errorf("%s, the file the restore point lists at %s, was moved to the trash", rel, p)
		}
		return nil
	})
}

func TestCaseOnlyRename(t *testing.T) {
	forceFolding(t)
	dev := mustIdentity(t)
	var log syncBuffer
	parent := t.TempDir()
	ns := filepath.Join(parent, "hub", "edge")
	h := namesHub(t, parent, map[identity.ID]string{dev.ID: "edge"}, &log, func(rh *receiver.Hub) {
		rh.Placed = foldLinks(t, ns)
	})
	src := t.TempDir()
	mtime := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	build(t, src, []node{
		{path: "docs/Report.txt", data: "version 1\n", mtime: mtime},
		{path: "docs/keep.txt", data: "kept\n"},
	})
	sync := func(want ...string) {
		t.Helper()
		rep, err := hostileSync(t, src, agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0))
		if err != nil || len(rep.Failed) > 0 || !rep.Committed.Complete {
			t.Fatalf("sync: %v, failed %v, committed %+v; want a complete restore point", err, rep.Failed, rep.Committed)
		}
		if got := manifestPaths(readHeadManifest(t, ns)); !slices.Equal(got, want) {
			t.Errorf("restore point lists %v, want %v", got, want)
		}
	}
	sync("docs", "docs/Report.txt", "docs/keep.txt")
	points := manifestBytes(t, ns)

	// Renamed in case only, content unchanged: the hub finds the file
	// under its new spelling and keeps it.
	if err := os.Rename(filepath.Join(src, "docs", "Report.txt"), filepath.Join(src, "docs", "report.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(ns, "docs", "Report.txt"), filepath.Join(ns, "docs", "report.txt")); err != nil {
		t.Fatal(err)
	}
	sync("docs", "docs/keep.txt", "docs/report.txt")
	checkNotTrashed(t, ns, "docs/report.txt")
	checkPoints(t, ns, points)
	points = manifestBytes(t, ns)

	// Renamed in case and changed: the new content replaces the old, which
	// goes to the trash.
	if err := os.Remove(filepath.Join(src, "docs", "report.txt")); err != nil {
		t.Fatal(err)
	}
	build(t, src, []node{{path: "docs/REPORT.txt", data: "version 2, longer\n"}})
	if err := os.Link(filepath.Join(ns, "docs", "report.txt"), filepath.Join(ns, "docs", "REPORT.txt")); err != nil {
		t.Fatal(err)
	}
	sync("docs", "docs/REPORT.txt", "docs/keep.txt")
	checkNotTrashed(t, ns, "docs/REPORT.txt")
	checkPoints(t, ns, points)
	if got, _ := os.ReadFile(filepath.Join(ns, "docs", "REPORT.txt")); string(got) != "version 2, longer\n" {
		t.Errorf("docs/REPORT.txt holds %q", got)
	}
	checkConfined(t, parent, h.root, "edge")
}

func TestHostileWindowsNames(t *testing.T) {
	setWindowsNames(t, true)
	dev := mustIdentity(t)
	var log syncBuffer
	parent := t.TempDir()
	h := namesHub(t, parent, map[identity.ID]string{dev.ID: "edge"}, &log)
	ns := filepath.Join(h.root, "edge")
	src := t.TempDir()
	build(t, src, hostileSrcTree())
	// Files with data are refused alone, and the sender says why.
	refused := map[string]string{
		"src/aux.c":     `"aux.c" names the Windows device AUX`,
		"CON":           `"CON" names the Windows device CON`,
		"Com1.log":      `"Com1.log" names the Windows device COM1`,
		"lpt9":          `"lpt9" names the Windows device LPT9`,
		"logs/nul.txt":  `"nul.txt" names the Windows device NUL`,
		"COM\u00b2.txt": "names the Windows device COM\u00b2",
		"aux/inner.txt": `"aux" names the Windows device AUX`,
		"trailing.":     `"trailing." ends in a dot, which Windows strips`,
		"space ":        `"space " ends in a space, which Windows strips`,
		"what?.txt":     `holds '?', which Windows does not allow in names`,
		"a<b":           `holds '<'`,
		"a>b":           `holds '>'`,
		"pipe|x":        `holds '|'`,
		`quote"x`:       `holds '"'`,
		"star*":         `holds '*'`,
		"colon:x":       `holds ':'`,
	}
	var nodes []node
	for p := range refused {
		nodes = append(nodes, node{path: p, data: "data of " + p + "\n"})
	}
	// Entries without data cannot be refused on the wire: they are not
	// applied, the restore point is partial, and the hub logs why.
	quiet := map[string]string{
		"aux":     `"aux" names the Windows device AUX`,
		"prn.txt": `"prn.txt" names the Windows device PRN`,
		"to-con":  `target "CON" names the Windows device CON`,
	}
	nodes = append(nodes, node{path: "aux", dir: true}, node{path: "prn.txt"}, node{path: "to-con", link: "CON"})
	build(t, src, nodes)
	connect := agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0)

	rep, err := hostileSync(t, src, connect)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if rep.Committed.Complete {
		t.Errorf("committed %+v, want a partial restore point", rep.Committed)
	}
	failed := failedBy(t, rep)
	for p, say := range refused {
		why, ok := failed[p]
		if !ok {
			t.Errorf("%q was not refused", p)
			continue
		}
		if !strings.Contains(why, strconv.Quote(p)) || !strings.Contains(why, say) || !strings.Contains(why, "entry refused") {
			t.Errorf("%q refused with %q, want it to name the path and say %q", p, why, say)
		}
	}
	if len(failed) != len(refused) {
		t.Errorf("%d entries failed, want %d", len(failed), len(refused))
	}
	hubLog := log.String()
	for p, say := range quiet {
		if !loggedRefusal(hubLog, p, say) {
			t.Errorf("the hub did not log the refusal of %q saying %q", p, say)
		}
	}
	m := readHeadManifest(t, ns)
	listed := manifestPaths(m)
	for p := range refused {
		if slices.Contains(listed, p) {
			t.Errorf("restore point lists refused %q", p)
		}
	}
	for p := range quiet {
		if slices.Contains(listed, p) {
			t.Errorf("restore point lists refused %q", p)
		}
	}
	for _, n := range hostileSrcTree() {
		if !slices.Contains(listed, n.path) {
			t.Errorf("restore point lists %v, without %s", listed, n.path)
		}
	}
	for _, p := range liveTree(t, ns) {
		if _, ok := refused[p]; ok {
			t.Errorf("refused %q is in the live tree", p)
		}
		if _, ok := quiet[p]; ok {
			t.Errorf("refused %q is in the live tree", p)
		}
	}
	checkPoints(t, ns, nil)
	checkConfined(t, parent, h.root, "edge")

	// Elsewhere than on Windows they are ordinary names.
	points := manifestBytes(t, ns)
	receiver.WindowsNames.Store(false)
	rep, err = hostileSync(t, src, connect)
	if err != nil || len(rep.Failed) > 0 || !rep.Committed.Complete {
		t.Fatalf("sync without the Windows rules: %v, failed %v, committed %+v; want a complete restore point", err, rep.Failed, rep.Committed)
	}
	sameTree(t, src, ns)
	checkPoints(t, ns, points)
	checkConfined(t, parent, h.root, "edge")
}
