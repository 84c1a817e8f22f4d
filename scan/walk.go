package scan

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// stateDir is the receiver's state directory. No path element of this name
// is ever scanned.
const stateDir = ".ferry"

// Options controls [Tree]. The zero value scans everything and ignores
// warnings.
type Options struct {
	// Exclude lists patterns of entries to skip; a matching directory is
	// not descended.
	Exclude []*Pattern
	// Warn is called for each entry skipped for a reason other than
	// Exclude: a symlink that leaves the tree, an unreadable directory, a
	// socket, device or named pipe. If nil, warnings are ignored.
	Warn func(path string, err error)
}

// Tree walks the tree at root and returns its files, directories and
// symlinks (not the root itself), sorted by Path. It only stats: no file is
// read. Symlinks are never followed, except that root itself may be one.
//
// A missing or unreadable root is an error; a subdirectory that cannot be
// read is reported to Warn and skipped with everything under it. A
// canceled ctx ends the walk with ctx's error.
func Tree(ctx context.Context, root string, opt Options) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("scan %s: not a directory", root)
	}
	w := &walker{ctx: ctx, root: root, opt: opt, readDir: os.ReadDir}
	des, err := w.readDir(root)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	if err := w.walk("", des); err != nil {
		return nil, err
	}
	slices.SortFunc(w.out, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return w.out, nil
}

// walker holds the state of one Tree call.
type walker struct {
	ctx     context.Context
	root    string
	opt     Options
	readDir func(name string) ([]fs.DirEntry, error) // os.ReadDir; tests replace it
	out     []Entry
}

// walk adds the entries des of the directory dir ("" for the root) and
// descends into its subdirectories.
func (w *walker) walk(dir string, des []fs.DirEntry) error {
	for _, de := range des {
		if err := w.ctx.Err(); err != nil {
			return fmt.Errorf("scan %s: %w", w.root, err)
		}
		name := de.Name()
		if name == stateDir {
			continue
		}
		rel := name
		if dir != "" {
			rel = dir + "/" + name
		}
		if err := w.visit(rel, de); err != nil {
			return err
		}
	}
	return nil
}

// visit adds the entry at rel and, for a directory, what is under it.
func (w *walker) visit(rel string, de fs.DirEntry) error {
	fi, err := de.Info() // an lstat
	if err != nil {
		w.warn(rel, err)
		return nil
	}
	mode := fi.Mode()
	if w.excluded(rel, mode.IsDir()) {
		return nil
	}
	switch {
	case mode.IsRegular():
		w.out = append(w.out, newEntry(rel, File, fi))
	case mode.IsDir():
		des, err := w.readDir(w.full(rel))
		if err != nil {
			w.warn(rel, err)
			return nil
		}
		w.out = append(w.out, newEntry(rel, Dir, fi))
		return w.walk(rel, des)
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(w.full(rel))
		if err != nil {
			w.warn(rel, err)
			return nil
		}
		if err := checkTarget(rel, target); err != nil {
			w.warn(rel, fmt.Errorf("skip %s: %w", rel, err))
			return nil
		}
		e := newEntry(rel, Symlink, fi)
		e.Target = filepath.ToSlash(target)
		w.out = append(w.out, e)
	default:
		w.warn(rel, fmt.Errorf("skip %s: %s", rel, special(mode)))
	}
	return nil
}

func (w *walker) excluded(rel string, isDir bool) bool {
	for _, p := range w.opt.Exclude {
		if p.matchSelf(rel, isDir) {
			return true
		}
	}
	return false
}

func (w *walker) full(rel string) string {
	return filepath.Join(w.root, filepath.FromSlash(rel))
}

func (w *walker) warn(rel string, err error) {
	if w.opt.Warn != nil {
		w.opt.Warn(rel, err)
	}
}

// special says why a file of mode m is not synced.
func special(m fs.FileMode) string {
	return typeName(m) + " not synced"
}

// typeName names the file type of m.
func typeName(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return fmt.Sprintf("special file (mode %v)", m.Type())
}
