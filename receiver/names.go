package receiver

import (
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// Names that the file system under a namespace cannot hold, or cannot hold
// apart. A session refuses them entry by entry (transfer.EntryError): the
// sender is told why, the rest of the sync goes on, and the restore point
// is partial.

// WindowsNames says whether sessions refuse the names Windows cannot create
// (see transfer.ValidWindowsPath): device names such as CON or aux.c,
// names ending in a dot or a space, and the characters < > : " | ? *. It
// is true on Windows, where creating them would open a device or fail;
// elsewhere they are ordinary names and are accepted. Tests may change it
// while a hub runs.
var WindowsNames atomic.Bool

func init() { WindowsNames.Store(runtime.GOOS == "windows") }

// FoldCase reports whether the file system under root folds case, when a
// Store is opened. It is probeFoldCase; tests replace it (before opening a
// Store), because none of the file systems the tests run on folds case.
var FoldCase = probeFoldCase

// probeFoldCase creates a file with a mixed-case name in root's state
// directory and looks it up under the other case. ext4 folds case per
// directory (chattr +F): a namespace whose state directory does not fold
// is taken not to fold.
func probeFoldCase(root *os.Root) (bool, error) {
	name := transfer.StateDir + "/fold-Probe"
	other := transfer.StateDir + "/FOLD-pROBE"
	root.Remove(name) // left by a crash
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, fmt.Errorf("probe case folding: %w", err)
	}
	f.Close()
	defer root.Remove(name)
	fi, err := root.Lstat(name)
	if err != nil {
		return false, fmt.Errorf("probe case folding: %w", err)
	}
	ofi, err := root.Lstat(other)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("probe case folding: %w", err)
	}
	return os.SameFile(fi, ofi), nil
}

// fold is the case folding compared: simple lower-casing (strings.ToLower).
// Names that a file system takes as one for other reasons are not folded:
// Unicode normalization forms (APFS holds "é" precomposed and decomposed
// as one name), or full case folding ("ß" and "SS").
func fold(p string) string { return strings.ToLower(p) }

// foldIndex holds, by folded spelling, the spelling of each path a session
// placed or carried over and of each directory above one.
type foldIndex map[string]string

// add records p and the directories above it.
func (x foldIndex) add(p string) {
	for q := p; ; q = q[:strings.LastIndexByte(q, '/')] {
		f := fold(q)
		if _, ok := x[f]; ok {
			return // and so are its parents
		}
		x[f] = q
		if !strings.Contains(q, "/") {
			return
		}
	}
}

// clash returns the first of the directories above p and p itself that x
// holds under another spelling, and that spelling; "" if there is none.
func (x foldIndex) clash(p string) (mine, theirs string) {
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		if s, ok := x[fold(p[:i])]; ok && s != p[:i] {
			return p[:i], s
		}
	}
	return "", ""
}

// checkName refuses, for this entry alone, a name the namespace's file
// system cannot hold or cannot tell from one already in the session, and
// records the name otherwise.
func (ss *Session) checkName(o *transfer.Offer) error {
	var err error
	if WindowsNames.Load() {
		err = transfer.ValidWindowsPath(o.Path)
		if err == nil && o.Kind == scan.Symlink {
			err = transfer.ValidWindowsTarget(o.Path, o.Target)
		}
	}
	if err == nil && ss.s.folds {
		if ss.names == nil {
			ss.names = make(foldIndex)
			// The receiver's own state: .FERRY names it too.
			ss.names.add(transfer.StateDir)
			for p := range ss.prev {
				if ss.unchanged(p) {
					ss.names.add(p) // carried into the next manifest
				}
			}
		}
		if mine, theirs := ss.names.clash(o.Path); theirs != "" {
			what := fmt.Sprintf("path %q", o.Path)
			if mine != o.Path {
				what += fmt.Sprintf(": %q", mine)
			}
			err = fmt.Errorf("%s collides with %q on this case-insensitive file system: %w", what, theirs, transfer.ErrRefused)
		} else if t := linkInto(o); t != "" {
			err = fmt.Errorf("symlink %q: target %q leads into %q on this case-insensitive file system: %w", o.Path, o.Target, transfer.StateDir, transfer.ErrRefused)
		} else {
			ss.names.add(o.Path)
		}
	}
	if err != nil {
		ss.failed++
		ss.s.log.Warn("entry refused", "path", o.Path, "err", err)
		return &transfer.EntryError{Err: err}
	}
	return nil
}

// spellings returns, when the namespace's file system folds case, the
// spelling of each path of entries and of each directory above one, by
// folded spelling; nil otherwise.
func (s *Store) spellings(entries map[string]Entry) foldIndex {
	if !s.folds {
		return nil
	}
	x := make(foldIndex, len(entries))
	for p := range entries {
		x.add(p)
	}
	return x
}

// linkInto returns the target of a symlink offer when, with case folded,
// it resolves into the receiver's state directory; "" otherwise. Exact
// spellings are refused for every file system by transfer's checks.
func linkInto(o *transfer.Offer) string {
	if o.Kind != scan.Symlink {
		return ""
	}
	t := path.Join(path.Dir(o.Path), o.Target)
	first, _, _ := strings.Cut(t, "/")
	if fold(first) == fold(transfer.StateDir) {
		return t
	}
	return ""
}

// trashable returns prev without the entries that m lists under another
// spelling, when the namespace's file system folds case. There the old
// spelling names the file m lists (a case-only rename, A.txt to a.txt), so
// moving it to the trash would take that file out of the live tree.
func (s *Store) trashable(prev, m *Manifest) *Manifest {
	if !s.folds || prev == nil {
		return prev
	}
	kept := make(foldIndex, len(m.Entries))
	for _, e := range m.Entries {
		kept.add(e.Path)
	}
	out := *prev
	out.Entries = nil
	for _, e := range prev.Entries {
		if _, ok := kept[fold(e.Path)]; !ok {
			out.Entries = append(out.Entries, e)
		}
	}
	return &out
}
