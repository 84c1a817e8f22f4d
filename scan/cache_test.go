package scan

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func cacheEntry(path string, size int64) Entry {
	return Entry{Path: path, Kind: File, Size: size, ModTime: oldTime, Dev: 7, Ino: 42}
}

func TestCacheLookup(t *testing.T) {
	c, err := OpenCache("")
	if err != nil {
		t.Fatal(err)
	}
	e := cacheEntry("a/b", 10)
	s := Sum{1, 2, 3}
	c.Store(e, s)
	tests := []struct {
		name   string
		modify func(*Entry)
		hit    bool
	}{
		{"same", func(*Entry) {}, true},
		{"same instant, other zone", func(e *Entry) { e.ModTime = e.ModTime.In(time.FixedZone("x", 3600)) }, true},
		{"size", func(e *Entry) { e.Size++ }, false},
		{"mtime ns", func(e *Entry) { e.ModTime = e.ModTime.Add(time.Nanosecond) }, false},
		{"ino", func(e *Entry) { e.Ino++ }, false},
		{"dev", func(e *Entry) { e.Dev++ }, false},
		{"path", func(e *Entry) { e.Path = "a/c" }, false},
		{"kind", func(e *Entry) { e.Kind = Symlink }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e
			tt.modify(&e)
			got, hit := c.Lookup(e)
			if hit != tt.hit || (hit && got != s) {
				t.Errorf("Lookup = %v, %v; want hit %v", got, hit, tt.hit)
			}
		})
	}
}

func TestCacheNil(t *testing.T) {
	var c *Cache
	c.Store(cacheEntry("a", 1), Sum{1})
	if _, ok := c.Lookup(cacheEntry("a", 1)); ok {
		t.Error("nil cache hit")
	}
	if err := c.Save(); err != nil {
		t.Error(err)
	}
}

func TestCacheRacy(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		mtime time.Time
		keep  bool
	}{
		{"old", now.Add(-time.Hour), true},
		{"just outside the window", now.Add(-racyWindow - time.Nanosecond), true},
		{"inside the window", now.Add(-time.Second), false},
		{"now", now, false},
		{"future", now.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := OpenCache("")
			c.now = func() time.Time { return now }
			e := cacheEntry("f", 1)
			e.ModTime = tt.mtime
			c.Store(e, Sum{9})
			if _, ok := c.Lookup(e); ok != tt.keep {
				t.Errorf("stored %v, want %v", ok, tt.keep)
			}
		})
	}
}

// TestCacheSaveOpen checks the round trip and that entries neither looked
// up nor stored since OpenCache age out.
func TestCacheSaveOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hashes")
	c, err := OpenCache(path)
	if err != nil {
		t.Fatalf("OpenCache of a missing file: %v", err)
	}
	entries := []Entry{cacheEntry("a", 1), cacheEntry("a/b", 2), cacheEntry("a/b/c", 3), cacheEntry("ab\xff", 4), cacheEntry("z", 1<<40)}
	entries[4].ModTime = time.Unix(-5, 3) // before 1970
	for i, e := range entries {
		c.Store(e, Sum{byte(i + 1)})
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}

	c2, err := OpenCache(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		if got, ok := c2.Lookup(e); !ok || got != (Sum{byte(i + 1)}) {
			t.Errorf("Lookup(%s) after reopen = %v, %v", e.Path, got, ok)
		}
	}
	// Touch only two; a third is stored anew.
	c3, _ := OpenCache(path)
	c3.Lookup(entries[0])
	c3.Lookup(entries[3])
	changed := entries[1]
	changed.Size = 99
	c3.Lookup(changed) // a miss keeps nothing
	c3.Store(cacheEntry("new", 5), Sum{0xee})
	if err := c3.Save(); err != nil {
		t.Fatal(err)
	}
	c4, _ := OpenCache(path)
	var kept []string
	for p := range c4.recs {
		kept = append(kept, p)
	}
	slices.Sort(kept)
	if diff := cmp.Diff([]string{"a", "ab\xff", "new"}, kept); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
	if len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

func TestCacheCorrupt(t *testing.T) {
	good := encodeCache(map[string]cacheRec{
		"a": {size: 1, mtime: 2, sum: Sum{3}, used: true},
		"b": {size: 4, mtime: 5, sum: Sum{6}, used: true},
	})
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x10
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("not a cache at all, but long enough to have a trailer")},
		{"truncated", good[:len(good)-1]},
		{"magic only", []byte(cacheMagic)},
		{"bit flip in a sum", flip(len(cacheMagic) + 10)},
		{"bit flip in the trailer", flip(len(good) - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hashes")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := OpenCache(path)
			if !errors.Is(err, ErrCacheCorrupt) {
				t.Errorf("OpenCache = %v, want ErrCacheCorrupt", err)
			}
			if c == nil || len(c.recs) != 0 {
				t.Fatalf("OpenCache returned %v, want an empty cache", c)
			}
			// Still usable, and the next Save repairs the file.
			c.Store(cacheEntry("x", 1), Sum{1})
			if err := c.Save(); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenCache(path); err != nil {
				t.Errorf("OpenCache after Save: %v", err)
			}
		})
	}
}

func TestCacheDecodeChecks(t *testing.T) {
	// Well-formed checksums over bad records: the record checks must catch
	// them.
	rec := func(shared, rest uint64, p string) []byte {
		b := []byte{byte(shared), byte(rest)}
		b = append(b, p...)
		b = append(b, 0, 0, 1, 0) // dev, ino, size, mtime
		return append(b, make([]byte, 32)...)
	}
	tests := []struct {
		name string
		body []byte
	}{
		{"duplicate", append(rec(0, 1, "a"), rec(0, 1, "a")...)},
		{"out of order", append(rec(0, 1, "b"), rec(0, 1, "a")...)},
		{"empty rest", rec(0, 0, "")},
		{"shared too long", rec(1, 1, "a")},
		{"shared too short", append(rec(0, 1, "a"), rec(0, 2, "ab")...)},
		{"huge size", append([]byte{0, 1, 'a', 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0}, make([]byte, 32)...)},
		{"short sum", rec(0, 1, "a")[:10]},
		{"non-minimal varint", append([]byte{0x80, 0x00, 1, 'a', 0, 0, 1, 0}, make([]byte, 32)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeCache(sealCache(tt.body)); !errors.Is(err, ErrCacheCorrupt) {
				t.Errorf("decodeCache = %v, want ErrCacheCorrupt", err)
			}
		})
	}
}

func TestCacheSaveError(t *testing.T) {
	c, err := OpenCache(filepath.Join(t.TempDir(), "no-such-dir", "hashes"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(); err == nil || !strings.HasPrefix(err.Error(), "save hash cache: ") {
		t.Errorf("Save into a missing directory = %v, want a save hash cache error", err)
	}
}
