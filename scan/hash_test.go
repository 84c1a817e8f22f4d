package scan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zeebo/blake3"
)

// scanOne scans root and returns the entry at path.
func scanOne(t *testing.T, root, path string) Entry {
	t.Helper()
	es, err := Tree(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Path == path {
			return e
		}
	}
	t.Fatalf("%s not in scan of %s", path, root)
	return Entry{}
}

func TestHash(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", bufSize/16*2+3) // crosses buffer boundaries
	root := buildTree(t, []node{
		{path: "empty", kind: File},
		{path: "small", kind: File, data: "hello"},
		{path: "d/big", kind: File, data: big},
		{path: "link", kind: Symlink, target: "d/big"},
	})
	h := &Hasher{Root: root}
	tests := []struct {
		path    string
		content string
	}{
		{"empty", ""},
		{"small", "hello"},
		{"d/big", big},
		{"link", "d/big"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := h.Hash(context.Background(), scanOne(t, root, tt.path))
			if err != nil {
				t.Fatal(err)
			}
			if want := Sum(blake3.Sum256([]byte(tt.content))); got != want {
				t.Errorf("Hash = %v, want %v", got, want)
			}
		})
	}
	if _, err := h.Hash(context.Background(), scanOne(t, root, "d")); err == nil || !strings.Contains(err.Error(), "hash d: cannot hash a dir") {
		t.Errorf("Hash(dir) error %v, want cannot hash a dir", err)
	}
}

func TestHashChanged(t *testing.T) {
	later := oldTime.Add(time.Minute)
	tests := []struct {
		name   string
		change func(full string) error
	}{
		{"grown", func(full string) error { return os.WriteFile(full, []byte("hello, world"), 0o644) }},
		{"shrunk", func(full string) error { return os.WriteFile(full, []byte("hi"), 0o644) }},
		{"touched", func(full string) error { return os.Chtimes(full, later, later) }},
		{"same size rewritten", func(full string) error {
			if err := os.WriteFile(full, []byte("HELLO"), 0o644); err != nil {
				return err
			}
			return os.Chtimes(full, later, later)
		}},
		{"replaced", func(full string) error {
			tmp := full + ".new"
			if err := os.WriteFile(tmp, []byte("hello"), 0o644); err != nil {
				return err
			}
			if err := os.Chtimes(tmp, oldTime, oldTime); err != nil {
				return err
			}
			return os.Rename(tmp, full)
		}},
		{"now a directory", func(full string) error {
			if err := os.Remove(full); err != nil {
				return err
			}
			return os.Mkdir(full, 0o755)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := buildTree(t, []node{{path: "d/f", kind: File, data: "hello"}})
			e := scanOne(t, root, "d/f")
			if err := tt.change(filepath.Join(root, "d", "f")); err != nil {
				t.Fatal(err)
			}
			if tt.name == "replaced" && e.Ino == 0 {
				t.Skip("no inode numbers on this platform")
			}
			c, _ := OpenCache("")
			_, err := (&Hasher{Root: root, Cache: c}).Hash(context.Background(), e)
			if !errors.Is(err, ErrChanged) {
				t.Fatalf("Hash = %v, want ErrChanged", err)
			}
			if !strings.HasPrefix(err.Error(), "hash d/f: ") {
				t.Errorf("error %q does not name the file", err)
			}
			if _, ok := c.Lookup(e); ok {
				t.Errorf("changed file was cached")
			}
		})
	}
}

func TestHashMissing(t *testing.T) {
	root := buildTree(t, []node{{path: "f", kind: File, data: "x"}})
	e := scanOne(t, root, "f")
	if err := os.Remove(filepath.Join(root, "f")); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Hasher{Root: root}).Hash(context.Background(), e); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Hash of a removed file = %v, want ErrNotExist", err)
	}
}

// TestHashConfined checks that Hash never reads outside Root, even when a
// directory was swapped for a link out of the tree after the scan.
func TestHashConfined(t *testing.T) {
	outside := buildTree(t, []node{{path: "secret", kind: File, data: "secret"}})
	root := buildTree(t, []node{{path: "d/secret", kind: File, data: "public"}})
	e := scanOne(t, root, "d/secret")
	if err := os.RemoveAll(filepath.Join(root, "d")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "d")); err != nil {
		t.Fatal(err)
	}
	s, err := (&Hasher{Root: root}).Hash(context.Background(), e)
	if err == nil {
		t.Fatalf("Hash through a link out of the root = %v, want error", s)
	}
	t.Log(err)
}

func TestHashCanceled(t *testing.T) {
	root := buildTree(t, []node{{path: "f", kind: File, data: "x"}})
	e := scanOne(t, root, "f")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&Hasher{Root: root}).Hash(ctx, e); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with canceled ctx = %v, want context.Canceled", err)
	}
}

// TestHashCacheHit shows that a hit reads nothing: the content is replaced
// keeping size, modification time and inode, and the cached (now stale)
// sum comes back. Without a cache the new content is hashed.
func TestHashCacheHit(t *testing.T) {
	root := buildTree(t, []node{{path: "f", kind: File, data: "before"}})
	full := filepath.Join(root, "f")
	c, err := OpenCache(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	h := &Hasher{Root: root, Cache: c}
	first, err := h.Hash(context.Background(), scanOne(t, root, "f"))
	if err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(full, []byte("AFTER!"), 0o644); err != nil { // in place: same inode
		t.Fatal(err)
	}
	if err := os.Chtimes(full, oldTime, oldTime); err != nil {
		t.Fatal(err)
	}
	e := scanOne(t, root, "f")
	got, err := h.Hash(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if got != first {
		t.Errorf("cached Hash = %v, want the cached %v", got, first)
	}
	fresh, err := (&Hasher{Root: root}).Hash(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if want := Sum(blake3.Sum256([]byte("AFTER!"))); fresh != want {
		t.Errorf("uncached Hash = %v, want %v", fresh, want)
	}
}

func TestHashConcurrent(t *testing.T) {
	var nodes []node
	for _, p := range []string{"a", "b", "c", "d/e", "d/f"} {
		nodes = append(nodes, node{path: p, kind: File, data: "content of " + p})
	}
	root := buildTree(t, nodes)
	es, err := Tree(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := OpenCache("")
	h := &Hasher{Root: root, Cache: c}
	var wg sync.WaitGroup
	for range 4 {
		for _, e := range es {
			if e.Kind != File {
				continue
			}
			wg.Go(func() {
				s, err := h.Hash(context.Background(), e)
				if err != nil {
					t.Error(err)
					return
				}
				if want := Sum(blake3.Sum256([]byte("content of " + e.Path))); s != want {
					t.Errorf("%s: %v, want %v", e.Path, s, want)
				}
			})
		}
	}
	wg.Wait()
}
