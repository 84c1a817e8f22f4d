package scan

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrCacheCorrupt reports a hash cache file that cannot be trusted.
// [OpenCache] still returns a usable, empty cache with it.
var ErrCacheCorrupt = errors.New("scan: hash cache corrupt")

// racyWindow is how recent a modification time must be for Store to refuse
// it. A file modified again within the file system's timestamp granularity
// of being hashed would keep its size and time and hit with a stale sum;
// anything modified after this window gets a later time. (git's index has
// the same "racily clean" problem.)
const racyWindow = 3 * time.Second

// maxCacheFile bounds what OpenCache reads into memory.
const maxCacheFile = 1 << 30

// Cache is the sender's hash cache: the sums of files keyed by path and
// valid while the file's device, inode, size and modification time are
// unchanged. It is safe for concurrent use. Its methods accept a nil
// *Cache, which caches nothing.
//
// Save keeps only the entries looked up (with a hit) or stored since
// OpenCache, so deleted files age out. A run that stops early would
// therefore drop the entries it did not reach; a caller that wants to keep
// them looks up every scanned entry first, which costs no I/O.
type Cache struct {
	path string
	now  func() time.Time // time.Now; tests replace it

	mu   sync.Mutex
	recs map[string]cacheRec
}

// cacheRec is one cached sum and the file state it is valid for.
type cacheRec struct {
	dev, ino uint64
	size     int64
	mtime    int64 // Unix nanoseconds
	sum      Sum
	used     bool // looked up or stored since OpenCache
}

// OpenCache loads the cache file at path. It always returns a usable cache:
// a missing file gives an empty cache and no error; a file that cannot be
// read or decoded gives an empty cache and an error saying why (wrapping
// [ErrCacheCorrupt] for bad content), which the caller may log and ignore:
// the next Save replaces the file. An empty path makes a cache that lives in
// memory only and whose Save does nothing.
func OpenCache(path string) (*Cache, error) {
	c := &Cache{path: path, now: time.Now, recs: make(map[string]cacheRec)}
	if path == "" {
		return c, nil
	}
	recs, err := readCache(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("open hash cache: %w", err)
	}
	c.recs = recs
	return c, nil
}

func readCache(path string) (map[string]cacheRec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxCacheFile {
		return nil, fmt.Errorf("decode %s: %d bytes, more than %d: %w", path, fi.Size(), maxCacheFile, ErrCacheCorrupt)
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, err
	}
	recs, err := decodeCache(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return recs, nil
}

// Lookup returns the cached sum of the file e, if the cache has one for its
// path with the same device, inode, size and modification time (to the
// nanosecond).
func (c *Cache) Lookup(e Entry) (Sum, bool) {
	if c == nil || e.Kind != File {
		return Sum{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.recs[e.Path]
	if !ok || r.dev != e.Dev || r.ino != e.Ino || r.size != e.Size || r.mtime != e.ModTime.UnixNano() {
		return Sum{}, false
	}
	if !r.used {
		r.used = true
		c.recs[e.Path] = r
	}
	return r.sum, true
}

// Store records s as the sum of the file e. It ignores entries that are not
// files and files modified within a few seconds of now (or in the future),
// whose timestamps could hide a later change.
func (c *Cache) Store(e Entry, s Sum) {
	if c == nil || e.Kind != File || !e.ModTime.Before(c.now().Add(-racyWindow)) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs[e.Path] = cacheRec{dev: e.Dev, ino: e.Ino, size: e.Size, mtime: e.ModTime.UnixNano(), sum: s, used: true}
}

// Save writes the entries used since OpenCache to the cache file,
// atomically: a temporary file is written, synced and renamed over it.
func (c *Cache) Save() error {
	if c == nil || c.path == "" {
		return nil
	}
	c.mu.Lock()
	data := encodeCache(c.recs)
	c.mu.Unlock()
	if err := writeAtomic(c.path, data); err != nil {
		return fmt.Errorf("save hash cache: %w", err)
	}
	return nil
}

// writeAtomic replaces the file at path with data, durably.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}
