package scan

import (
	"encoding"
	"fmt"
	"io/fs"
	"strconv"
	"time"
)

var (
	_ encoding.TextMarshaler   = Kind(0)
	_ encoding.TextUnmarshaler = (*Kind)(nil)
)

// Kind is the type of an [Entry].
type Kind uint8

// The kinds of entry a scan returns.
const (
	File    Kind = 1
	Dir     Kind = 2
	Symlink Kind = 3
)

// String returns "file", "dir" or "symlink".
func (k Kind) String() string {
	switch k {
	case File:
		return "file"
	case Dir:
		return "dir"
	case Symlink:
		return "symlink"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText encodes k as its String, so JSON shows "file".
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes "file", "dir" or "symlink".
func (k *Kind) UnmarshalText(b []byte) error {
	for _, v := range []Kind{File, Dir, Symlink} {
		if string(b) == v.String() {
			*k = v
			return nil
		}
	}
	return fmt.Errorf("unmarshal kind: unknown kind %q", b)
}

// Entry is one file, directory or symlink of a scanned tree.
type Entry struct {
	// Path is slash-separated and relative to the root; never "" or ".".
	Path string
	Kind Kind
	// Size is the length in bytes; files only.
	Size int64
	// Mode holds the permission bits only (fs.FileMode.Perm).
	Mode    fs.FileMode
	ModTime time.Time
	// Target is the link text of a symlink: always relative, and it stays
	// inside the tree. Slash-separated.
	Target string
	// Dev and Ino identify the file for the hash cache; zero where the
	// platform has no such numbers.
	Dev, Ino uint64
}

// newEntry describes fi, found at rel.
func newEntry(rel string, k Kind, fi fs.FileInfo) Entry {
	e := Entry{Path: rel, Kind: k, Mode: fi.Mode().Perm(), ModTime: fi.ModTime()}
	if k == File {
		e.Size = fi.Size()
	}
	e.Dev, e.Ino = fileID(fi)
	return e
}
