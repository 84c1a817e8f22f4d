package scan

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// node is one entry of a fixture tree.
type node struct {
	path   string // slash-separated
	kind   Kind
	data   string // file content
	target string // symlink text
}

// oldTime is the modification time fixtures get: far enough in the past
// for the cache to accept it.
var oldTime = time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

// buildTree creates nodes under a new temporary directory and returns it.
// Parent directories are created as needed.
func buildTree(t *testing.T, nodes []node) string {
	t.Helper()
	root := t.TempDir()
	for _, n := range nodes {
		full := filepath.Join(root, filepath.FromSlash(n.path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch n.kind {
		case File:
			err = os.WriteFile(full, []byte(n.data), 0o644)
			if err == nil {
				err = os.Chtimes(full, oldTime, oldTime)
			}
		case Dir:
			err = os.MkdirAll(full, 0o755)
		case Symlink:
			err = os.Symlink(n.target, full)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// warnings collects what Tree reports to Options.Warn.
type warnings map[string]error

func (w warnings) warn(path string, err error) { w[path] = err }
