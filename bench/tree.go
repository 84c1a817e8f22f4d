package bench

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zeebo/blake3"
)

// Sum is a BLAKE3-256 digest.
type Sum [32]byte

// Entry is one regular file of a tree.
type Entry struct {
	Size int64
	Sum  Sum
}

// Tree maps slash-separated relative paths of regular files to their size
// and hash, and lists the directories.
type Tree struct {
	Files map[string]Entry
	Dirs  map[string]bool
	Other []string // symlinks, devices and the like: never expected
}

// HashFile returns the BLAKE3 digest and size of a file.
func HashFile(p string) (Sum, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return Sum{}, 0, err
	}
	defer f.Close()
	h := blake3.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Sum{}, 0, err
	}
	var s Sum
	copy(s[:], h.Sum(nil))
	return s, n, nil
}

// ReadTree hashes every regular file under root. ignore, if not nil, is
// given each relative path; an ignored directory is not entered.
func ReadTree(root string, ignore func(rel string) bool) (*Tree, error) {
	t := &Tree{Files: map[string]Entry{}, Dirs: map[string]bool{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if ignore != nil && ignore(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			t.Dirs[rel] = true
		case d.Type().IsRegular():
			s, n, err := HashFile(p)
			if err != nil {
				return err
			}
			t.Files[rel] = Entry{Size: n, Sum: s}
		default:
			t.Other = append(t.Other, rel)
		}
		return nil
	})
	return t, err
}

// Diff lists how got differs from want: missing, extra and different files
// and directories, sorted, at most limit of them (0: all).
func Diff(want, got *Tree, limit int) []string {
	var d []string
	for p, w := range want.Files {
		g, ok := got.Files[p]
		switch {
		case !ok:
			d = append(d, "missing "+p)
		case g.Size != w.Size:
			d = append(d, fmt.Sprintf("size %s: %d, want %d", p, g.Size, w.Size))
		case g.Sum != w.Sum:
			d = append(d, "content "+p)
		}
	}
	for p := range got.Files {
		if _, ok := want.Files[p]; !ok {
			d = append(d, "extra "+p)
		}
	}
	for p := range want.Dirs {
		if !got.Dirs[p] {
			d = append(d, "missing dir "+p)
		}
	}
	for p := range got.Dirs {
		if !want.Dirs[p] {
			d = append(d, "extra dir "+p)
		}
	}
	for _, p := range got.Other {
		d = append(d, "unexpected non-regular "+p)
	}
	slices.Sort(d)
	if limit > 0 && len(d) > limit {
		n := len(d)
		d = append(d[:limit:limit], fmt.Sprintf("... and %d more", n-limit))
	}
	return d
}

// Verify compares the tree at dst with want and returns an error naming the
// first differences.
func Verify(want *Tree, dst string, ignore func(string) bool) error {
	got, err := ReadTree(dst, ignore)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if d := Diff(want, got, 5); len(d) > 0 {
		return fmt.Errorf("destination differs from source: %s", strings.Join(d, "; "))
	}
	return nil
}
