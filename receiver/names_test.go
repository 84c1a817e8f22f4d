package receiver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// foldingFS makes the stores opened during the test take their file system
// for one that folds case. None of the file systems the tests run on does
// (no vfat or exfat, and ext4 casefold needs kernel Unicode support), so
// this seam is the only way to exercise the rules. Tests that use it, or
// set WindowsNames, must not be parallel: both are package variables.
func foldingFS(t *testing.T) {
	t.Helper()
	old := FoldCase
	FoldCase = func(*os.Root) (bool, error) { return true, nil }
	t.Cleanup(func() { FoldCase = old })
}

func TestProbeFoldCaseOnThisFileSystem(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.folds {
		t.Errorf("Open took %s for a file system that folds case", dir)
	}
	folds, err := probeFoldCase(st.root)
	if err != nil || folds {
		t.Errorf("probeFoldCase = %v, %v; want false, nil on a case-sensitive file system", folds, err)
	}
	names, err := os.ReadDir(filepath.Join(dir, transfer.StateDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range names {
		if strings.Contains(strings.ToLower(de.Name()), "probe") {
			t.Errorf("the probe left %s behind", de.Name())
		}
	}
}

func TestFoldIndex(t *testing.T) {
	x := make(foldIndex)
	for _, p := range []string{"logs/A.txt", "docs/Read.me", "top"} {
		x.add(p)
	}
	tests := []struct {
		path          string
		mine, theirs  string
		wantCollision bool
	}{
		{"logs/A.txt", "", "", false},
		{"logs/B.txt", "", "", false},
		{"logs/a.txt", "logs/a.txt", "logs/A.txt", true},
		{"LOGS/b.txt", "LOGS", "logs", true},
		{"Docs/Read.me", "Docs", "docs", true},
		{"docs/read.ME", "docs/read.ME", "docs/Read.me", true},
		{"TOP", "TOP", "top", true},
		{"top/x", "", "", false},
		{"Topx", "", "", false},
		{"café", "", "", false},
	}
	for _, tt := range tests {
		mine, theirs := x.clash(tt.path)
		if (theirs != "") != tt.wantCollision || mine != tt.mine || theirs != tt.theirs {
			t.Errorf("clash(%q) = %q, %q; want %q, %q", tt.path, mine, theirs, tt.mine, tt.theirs)
		}
	}
}

func TestTrashable(t *testing.T) {
	prev := &Manifest{Seq: 1, Entries: []Entry{
		{Path: "Docs", Kind: "dir"},
		{Path: "Docs/Report.txt", Kind: "file"},
		{Path: "Docs/old.txt", Kind: "file"},
		{Path: "Same", Kind: "file"},
		{Path: "gone", Kind: "file"},
	}}
	m := &Manifest{Seq: 2, Entries: []Entry{
		{Path: "docs/new.txt", Kind: "file"}, // its directory not listed
		{Path: "docs/report.txt", Kind: "file"},
		{Path: "Same", Kind: "file"},
	}}
	paths := func(m *Manifest) []string {
		var out []string
		for _, e := range m.Entries {
			out = append(out, e.Path)
		}
		return out
	}
	s := &Store{}
	if got := paths(s.trashable(prev, m)); !slices.Equal(got, paths(prev)) {
		t.Errorf("case-sensitive: trashable kept %v, want all of %v", got, paths(prev))
	}
	s.folds = true
	want := []string{"Docs/old.txt", "gone"}
	if got := paths(s.trashable(prev, m)); !slices.Equal(got, want) {
		t.Errorf("folding: trashable = %v, want %v", got, want)
	}
	if len(prev.Entries) != 5 {
		t.Errorf("trashable changed prev: %v", paths(prev))
	}
}

// refusedAlone checks that err refuses its entry alone, naming what.
func refusedAlone(t *testing.T, err error, what ...string) {
	t.Helper()
	var ee *transfer.EntryError
	if !errors.As(err, &ee) || !errors.Is(err, transfer.ErrRefused) {
		t.Fatalf("got %v, want a transfer.EntryError wrapping ErrRefused", err)
	}
	for _, w := range what {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

func TestOfferCaseCollisions(t *testing.T) {
	foldingFS(t)
	dir := t.TempDir()
	st := recOpen(t, dir, Options{})
	ss := recBegin(t, st)
	empty := func(id uint64, p string) *transfer.Offer {
		return recFile{path: p}.offer(id)
	}
	recOffer(t, ss, empty(1, "logs/A.txt"))
	_, err := ss.Offer(context.Background(), empty(2, "logs/a.txt"))
	refusedAlone(t, err, `path "logs/a.txt" collides with "logs/A.txt" on this case-insensitive file system`)
	_, err = ss.Offer(context.Background(), &transfer.Offer{ID: 3, Kind: scan.Dir, Path: "Logs", Mode: 0o755})
	refusedAlone(t, err, `"Logs" collides with "logs"`)
	_, err = ss.Offer(context.Background(), empty(4, "LOGS/b.txt"))
	refusedAlone(t, err, `path "LOGS/b.txt": "LOGS" collides with "logs"`)
	// The receiver's own state under another spelling, as a path and as
	// a link's target.
	_, err = ss.Offer(context.Background(), empty(5, ".FERRY/HEAD"))
	refusedAlone(t, err, `".FERRY" collides with ".ferry"`)
	_, err = ss.Offer(context.Background(), &transfer.Offer{ID: 6, Kind: scan.Symlink, Path: "logs/l", Target: "../.Ferry/HEAD", Hash: scan.Sum{1}})
	refusedAlone(t, err, `leads into ".ferry"`)
	recOffer(t, ss, empty(7, "logs/b.txt"))
	c := recCommit(t, ss, 7, true)
	if c.Complete {
		t.Error("a session with refused entries committed a complete restore point")
	}
	if got, want := manifestPathsOf(st.Head()), []string{"logs/A.txt", "logs/b.txt"}; !slices.Equal(got, want) {
		t.Errorf("manifest lists %v, want %v", got, want)
	}
	ss.Close()

	// The next session carries logs/A.txt over unchanged (a summary
	// matched its bucket) and offers logs/a.txt: on this file system that
	// would replace the file the new restore point still lists.
	ss = recBegin(t, st)
	ss.Keep([]bool{true})
	_, err = ss.Offer(context.Background(), empty(1, "logs/a.txt"))
	refusedAlone(t, err, `collides with "logs/A.txt"`)
	ss.Close()

	// Without the summary logs/A.txt may be gone from the source: a
	// case-only rename is accepted.
	ss = recBegin(t, st)
	defer ss.Close()
	recOffer(t, ss, empty(1, "logs/a.txt"))
	// A checkpoint taken now lists the new spelling only: the old one
	// names the same file, whose content is the new one.
	if err := ss.checkpoint(); err != nil {
		t.Fatal(err)
	}
	if got, want := manifestPathsOf(st.Head()), []string{"logs/a.txt", "logs/b.txt"}; !slices.Equal(got, want) {
		t.Errorf("checkpoint lists %v, want %v", got, want)
	}
}

func TestOfferWindowsNames(t *testing.T) {
	old := WindowsNames.Load()
	t.Cleanup(func() { WindowsNames.Store(old) })
	st := recOpen(t, t.TempDir(), Options{})
	for _, on := range []bool{true, false} {
		WindowsNames.Store(on)
		ss := recBegin(t, st)
		_, err := ss.Offer(context.Background(), recFile{path: "src/aux.c"}.offer(1))
		if on {
			refusedAlone(t, err, `path "src/aux.c": "aux.c" names the Windows device AUX`)
		} else if err != nil {
			t.Errorf("WindowsNames off: %v", err)
		}
		_, err = ss.Offer(context.Background(), &transfer.Offer{ID: 2, Kind: scan.Symlink, Path: "l", Mode: 0o777, Target: "src/aux.c"})
		if on {
			refusedAlone(t, err, `symlink "l" -> "src/aux.c": target "aux.c" names the Windows device AUX`)
		} else if err != nil {
			t.Errorf("WindowsNames off: %v", err)
		}
		ss.Close()
	}
}

func manifestPathsOf(m *Manifest) []string {
	var out []string
	if m != nil {
		for _, e := range m.Entries {
			out = append(out, e.Path)
		}
	}
	return out
}
