package scan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary renders entries without the fields that vary between runs.
func summary(es []Entry) []string {
	var out []string
	for _, e := range es {
		s := fmt.Sprintf("%s %s %d %v", e.Kind, e.Path, e.Size, e.Mode)
		if e.Kind == Symlink {
			s += " -> " + e.Target
		}
		out = append(out, s)
	}
	return out
}

func mustCompile(t testing.TB, ps ...string) []*Pattern {
	t.Helper()
	var out []*Pattern
	for _, s := range ps {
		p, err := Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func TestTree(t *testing.T) {
	root := buildTree(t, []node{
		{path: "a.txt", kind: File, data: "hello"},
		{path: "a-b.txt", kind: File, data: "x"},
		{path: "a/b/c.json", kind: File, data: "{}"},
		{path: "a/b/up", kind: Symlink, target: "../../a.txt"},
		{path: "a/dot", kind: Symlink, target: "./b/c.json"},
		{path: "a/root", kind: Symlink, target: ".."},
		{path: "a/dangling", kind: Symlink, target: "nowhere"},
		{path: "empty", kind: Dir},
		{path: "escape", kind: Symlink, target: "../../etc"},
		{path: "a/escape2", kind: Symlink, target: "../.."},
		{path: "abs", kind: Symlink, target: "/etc/passwd"},
		{path: "through", kind: Symlink, target: "a/root/../x"},
		{path: "state", kind: Symlink, target: "a/../.ferry/journal"},
		{path: ".ferry/journal", kind: File, data: "state"},
		{path: "a/.ferry/x", kind: File, data: "nested state"},
		{path: "a/.ferry.txt", kind: File, data: "not state"},
	})
	if err := os.Chmod(filepath.Join(root, "a.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := warnings{}
	got, err := Tree(context.Background(), root, Options{Warn: w.warn})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"dir a 0 -rwxr-xr-x",
		"file a-b.txt 1 -rw-r--r--",
		"file a.txt 5 -rw-------",
		"file a/.ferry.txt 9 -rw-r--r--",
		"dir a/b 0 -rwxr-xr-x",
		"file a/b/c.json 2 -rw-r--r--",
		"symlink a/b/up 0 -rwxrwxrwx -> ../../a.txt",
		"symlink a/dangling 0 -rwxrwxrwx -> nowhere",
		"symlink a/dot 0 -rwxrwxrwx -> ./b/c.json",
		"symlink a/root 0 -rwxrwxrwx -> ..",
		"dir empty 0 -rwxr-xr-x",
	}
	if diff := cmp.Diff(want, summary(got)); diff != "" {
		t.Errorf("Tree entries (-want +got):\n%s", diff)
	}
	wantWarn := map[string]string{
		"escape":    `skip escape: symlink target "../../etc" leaves the tree`,
		"a/escape2": `skip a/escape2: symlink target "../.." leaves the tree`,
		"abs":       `skip abs: symlink target "/etc/passwd" is absolute`,
		"through":   `skip through: symlink target "a/root/../x" has .. after a name`,
		"state":     `skip state: symlink target "a/../.ferry/journal" points into .ferry`,
	}
	for p, msg := range wantWarn {
		if err := w[p]; err == nil || !strings.HasPrefix(err.Error(), msg) {
			t.Errorf("warning for %s = %v, want %q", p, err, msg)
		}
	}
	if len(w) != len(wantWarn) {
		t.Errorf("%d warnings %v, want %d", len(w), w, len(wantWarn))
	}
	for _, e := range got {
		if e.ModTime.IsZero() {
			t.Errorf("%s: zero ModTime", e.Path)
		}
		if e.Kind == File && !e.ModTime.Equal(oldTime) {
			t.Errorf("%s: ModTime %v, want %v", e.Path, e.ModTime, oldTime)
		}
	}
}

func TestTreeExclude(t *testing.T) {
	root := buildTree(t, []node{
		{path: "keep.txt", kind: File},
		{path: "x.tmp", kind: File},
		{path: "a/y.tmp", kind: File},
		{path: "a/keep", kind: File},
		{path: "cache/blob", kind: File},
		// Descending into an excluded directory would warn about this link.
		{path: "cache/bad", kind: Symlink, target: "/etc"},
		{path: "logs/old/bad", kind: Symlink, target: "../../../x"},
		{path: "logs/app.log", kind: File},
		{path: "build", kind: File, data: "a file, not the dir pattern"},
		{path: "sub/build/o", kind: File},
		{path: "db/x.idx", kind: File},
		{path: "sub/db/x.idx", kind: File},
	})
	w := warnings{}
	opt := Options{
		Exclude: mustCompile(t, "*.tmp", "cache", "logs/old/", "build/", "db/*.idx"),
		Warn:    w.warn,
	}
	got, err := Tree(context.Background(), root, opt)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range got {
		paths = append(paths, e.Path)
	}
	want := []string{"a", "a/keep", "build", "db", "keep.txt", "logs", "logs/app.log", "sub", "sub/db", "sub/db/x.idx"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if len(w) != 0 {
		t.Errorf("warnings %v, want none: excluded directories must not be descended", w)
	}
	// Whatever Tree keeps, Match must agree it is not excluded.
	for _, e := range got {
		for _, p := range opt.Exclude {
			if p.Match(e.Path, e.Kind == Dir) {
				t.Errorf("Tree kept %s, which %q matches", e.Path, p)
			}
		}
	}
}

func TestTreeUnreadableDir(t *testing.T) {
	root := buildTree(t, []node{
		{path: "ok/a", kind: File},
		{path: "locked/b", kind: File},
		{path: "locked/deeper/c", kind: File},
	})
	denied := &fs.PathError{Op: "open", Path: filepath.Join(root, "locked"), Err: fs.ErrPermission}
	w := warnings{}
	tw := &walker{ctx: context.Background(), root: root, opt: Options{Warn: w.warn}, readDir: func(name string) ([]fs.DirEntry, error) {
		if name == denied.Path {
			return nil, denied
		}
		return os.ReadDir(name)
	}}
	des, err := tw.readDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.walk("", des); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"dir ok 0 -rwxr-xr-x", "file ok/a 0 -rw-r--r--"}, summary(tw.out)); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if err := w["locked"]; !errors.Is(err, fs.ErrPermission) {
		t.Errorf("warning for locked = %v, want permission error", err)
	}
}

func TestTreeRootErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name string
		root string
		is   error
		want string
	}{
		{"missing", missing, fs.ErrNotExist, missing},
		{"not a directory", file, nil, file + ": not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Tree(context.Background(), tt.root, Options{})
			if err == nil {
				t.Fatal("Tree succeeded, want error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want one that is %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to name %q", err, tt.want)
			}
		})
	}
}

func TestTreeCanceled(t *testing.T) {
	root := buildTree(t, []node{{path: "a/b", kind: File}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Tree(ctx, root, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Tree with canceled ctx: %v, want context.Canceled", err)
	}
}

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		rel, target string
		want        string // "" to keep, else a substring of the reason
	}{
		{"l", "x", ""},
		{"l", ".", ""},
		{"a/l", "..", ""},
		{"a/b/l", "../../x/y", ""},
		{"a/l", "./../b/./c", ""},
		{"a/l", "b//c/", ""},
		{"l", "..", "leaves the tree"},
		{"a/l", "../..", "leaves the tree"},
		{"a/l", "x/../../..", "leaves the tree"},
		{"l", "/etc", "is absolute"},
		{"l", "", "empty"},
		{"l", "x/..", "after a name"},
		{"a/l", "../s/../b", "after a name"},
		{"l", ".ferry", "points into .ferry"},
		{"a/l", "../.ferry/x", "points into .ferry"},
		{"a/l", "x.ferry", ""},
	}
	for _, tt := range tests {
		err := checkTarget(tt.rel, tt.target)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("checkTarget(%q, %q) = %v, want nil", tt.rel, tt.target, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("checkTarget(%q, %q) = %v, want %q", tt.rel, tt.target, err, tt.want)
		}
	}
}
