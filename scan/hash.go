package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/zeebo/blake3"
)

// ErrChanged reports that a file no longer matches the Entry it was scanned
// as: its size, modification time or identity differ, or it changed while
// being read. Scan it again.
var ErrChanged = errors.New("scan: file changed since scan")

// bufSize is the read size for hashing.
const bufSize = 1 << 20

// Hasher hashes the entries of one tree. The zero Cache is valid: nothing
// is cached. A Hasher is safe for concurrent use.
type Hasher struct {
	// Root is the directory the entries' paths are relative to.
	Root string
	// Cache, if not nil, is consulted before reading and updated after.
	Cache *Cache
}

// Hash returns the BLAKE3-256 sum of e's content. A symlink's content is its
// Target; a directory has none and is an error.
//
// A cache hit reads nothing. Otherwise the file is opened inside Root
// (never through a link out of it) and checked against e before and after
// it is read; any difference is an error wrapping [ErrChanged], and nothing
// is cached. ctx is checked between reads.
func (h *Hasher) Hash(ctx context.Context, e Entry) (Sum, error) {
	switch e.Kind {
	case Symlink:
		return Sum(blake3.Sum256([]byte(e.Target))), nil
	case File:
	default:
		return Sum{}, fmt.Errorf("hash %s: cannot hash a %v", e.Path, e.Kind)
	}
	if s, ok := h.Cache.Lookup(e); ok {
		return s, nil
	}
	s, err := h.read(ctx, e)
	if err != nil {
		return Sum{}, fmt.Errorf("hash %s: %w", e.Path, err)
	}
	h.Cache.Store(e, s)
	return s, nil
}

// read hashes the content of the file e.
func (h *Hasher) read(ctx context.Context, e Entry) (Sum, error) {
	if err := ctx.Err(); err != nil {
		return Sum{}, err
	}
	root, err := os.OpenRoot(h.Root)
	if err != nil {
		return Sum{}, err
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(e.Path))
	if err != nil {
		return Sum{}, err
	}
	defer f.Close()
	if err := unchanged(f, e); err != nil {
		return Sum{}, err
	}

	d := blake3.New()
	buf := make([]byte, min(bufSize, max(e.Size, 0)+1)) // +1 sees growth at EOF
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return Sum{}, err
		}
		k, err := f.Read(buf)
		d.Write(buf[:k])
		n += int64(k)
		if n > e.Size {
			return Sum{}, fmt.Errorf("grew past %d bytes while read: %w", e.Size, ErrChanged)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Sum{}, err
		}
	}
	if n != e.Size {
		return Sum{}, fmt.Errorf("read %d bytes, scanned %d: %w", n, e.Size, ErrChanged)
	}
	if err := unchanged(f, e); err != nil {
		return Sum{}, err
	}
	var s Sum
	d.Sum(s[:0])
	return s, nil
}

// unchanged checks the open file f against e.
func unchanged(f *os.File, e Entry) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("now a %s: %w", typeName(fi.Mode()), ErrChanged)
	}
	if fi.Size() != e.Size {
		return fmt.Errorf("size %d, scanned %d: %w", fi.Size(), e.Size, ErrChanged)
	}
	if !fi.ModTime().Equal(e.ModTime) {
		return fmt.Errorf("modified %v, scanned %v: %w", fi.ModTime(), e.ModTime, ErrChanged)
	}
	if dev, ino := fileID(fi); e.Ino != 0 && (dev != e.Dev || ino != e.Ino) {
		return fmt.Errorf("replaced by another file: %w", ErrChanged)
	}
	return nil
}
