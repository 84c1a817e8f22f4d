//go:build linux || darwin

package scan

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestTreeSpecialFiles(t *testing.T) {
	root := buildTree(t, []node{
		{path: "a", kind: File},
		{path: "skipped/ignored", kind: Dir},
	})
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Inside an excluded directory: never looked at.
	if err := syscall.Mkfifo(filepath.Join(root, "skipped/ignored/pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := warnings{}
	got, err := Tree(context.Background(), root, Options{Exclude: mustCompile(t, "skipped/"), Warn: w.warn})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Path != "a" {
		t.Errorf("entries %v, want just a", summary(got))
	}
	if len(w) != 1 || w["pipe"] == nil || !strings.Contains(w["pipe"].Error(), "skip pipe: named pipe") {
		t.Errorf("warnings %v, want one for pipe", w)
	}
	if got[0].Ino == 0 {
		t.Errorf("a: Ino is zero, want the inode number")
	}
}
