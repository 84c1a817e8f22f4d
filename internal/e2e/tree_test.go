package e2e

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// node declares one entry of a fixture tree.
type node struct {
	path   string
	size   int    // random bytes (seeded by path) unless data is set
	data   string // content
	link   string // symlink target
	dir    bool
	mode   fs.FileMode
	mtime  time.Time
	seeded uint64
}

// build writes the tree under dir.
func build(t testing.TB, dir string, nodes []node) {
	t.Helper()
	for _, n := range nodes {
		p := filepath.Join(dir, filepath.FromSlash(n.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case n.dir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case n.link != "":
			if err := os.Symlink(n.link, p); err != nil {
				t.Fatal(err)
			}
			continue
		default:
			data := []byte(n.data)
			if n.size > 0 {
				data = randomBytes(n.path, n.seeded, n.size)
			}
			mode := n.mode
			if mode == 0 {
				mode = 0o644
			}
			if err := os.WriteFile(p, data, mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
		if !n.mtime.IsZero() {
			if err := os.Chtimes(p, n.mtime, n.mtime); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func randomBytes(name string, seed uint64, n int) []byte {
	var h uint64
	for _, c := range name {
		h = h*31 + uint64(c)
	}
	r := rand.New(rand.NewPCG(h, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// sampleTree has critical files in directories that sort last, many small
// files, a few large ones, nesting, an empty file, an empty directory and
// symlinks inside the tree.
func sampleTree() []node {
	ns := []node{
		{path: "zz/state/alarm.json", data: `{"alarm":"on"}`},
		{path: "zz/state/device.json", data: `{"id":7}`, mode: 0o600},
		{path: "config/site.conf", data: "site = north\n"},
		{path: "media/a.bin", size: 3<<20 + 17},
		{path: "media/b.bin", size: 1 << 20},
		{path: "db/events.dat", size: 2<<20 + 5},
		{path: "db/events.idx", size: 4096},
		{path: "empty.txt"},
		{path: "deep/a/b/c/d/e.txt", data: "deep"},
		{path: "empty-dir", dir: true},
		{path: "run.sh", data: "#!/bin/sh\necho hi\n", mode: 0o755},
		{path: "current", link: "logs/log-07.txt"},
		{path: "deep/a/up", link: "../../config"},
	}
	for i := range 40 {
		ns = append(ns, node{path: "logs/log-" + twoDigits(i) + ".txt", size: 100 + i*53})
	}
	return ns
}

func twoDigits(i int) string { return string([]byte{'0' + byte(i/10), '0' + byte(i%10)}) }

// sameTree fails t unless dst holds exactly src's tree (ignoring dst's
// .ferry): kinds, bytes, permission bits, file mtimes, link targets.
func sameTree(t testing.TB, src, dst string) {
	t.Helper()
	a, b := listTree(t, src), listTree(t, dst)
	for p, ea := range a {
		eb, ok := b[p]
		if !ok {
			t.Errorf("%s: missing at the destination", p)
			continue
		}
		if ea.kind != eb.kind || ea.link != eb.link || !bytes.Equal(ea.data, eb.data) {
			t.Errorf("%s: differs (kind %v/%v, link %q/%q, %d/%d bytes)", p, ea.kind, eb.kind, ea.link, eb.link, len(ea.data), len(eb.data))
		}
		if ea.kind == 0 && (ea.mode != eb.mode || !ea.mtime.Equal(eb.mtime)) {
			t.Errorf("%s: mode %v mtime %v, want %v %v", p, eb.mode, eb.mtime, ea.mode, ea.mtime)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			t.Errorf("%s: at the destination but not in the source", p)
		}
	}
}

type treeEntry struct {
	kind  fs.FileMode // type bits
	mode  fs.FileMode
	mtime time.Time
	data  []byte
	link  string
}

func listTree(t testing.TB, root string) map[string]treeEntry {
	t.Helper()
	m := make(map[string]treeEntry)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if rel == ".ferry" || strings.HasPrefix(rel, ".ferry/") {
			return filepath.SkipDir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := treeEntry{kind: fi.Mode().Type(), mode: fi.Mode().Perm(), mtime: fi.ModTime()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			e.link, err = os.Readlink(p)
		case fi.Mode().IsRegular():
			e.data, err = os.ReadFile(p)
		}
		m[rel] = e
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mustAge sets every file's mtime an hour back and returns that time.
func mustAge(t testing.TB, root string) time.Time {
	t.Helper()
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	return old
}

func timeNow() time.Time { return time.Now() }
