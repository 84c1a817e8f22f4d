package bench

import (
	"bytes"
	"compress/flate"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDatasetShapeAtScale1(t *testing.T) {
	d, err := NewDataset(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := d.Count(""); n < 1400 || n > 1600 {
		t.Errorf("files = %d, want about 1,500", n)
	}
	if b := d.Bytes(""); b < 55e6 || b > 65e6 {
		t.Errorf("bytes = %d, want about 60 MB", b)
	}
	want := map[Kind]int{KindCritical: 40, KindLog: 1450, KindMedia: 6, KindDB: 2}
	for k, n := range want {
		if got := d.Count(k); got != n {
			t.Errorf("%s files = %d, want %d", k, got, n)
		}
	}
	for _, f := range d.Files {
		switch f.Kind {
		case KindCritical:
			if f.Size > 8<<10 {
				t.Errorf("critical %s is %d bytes, want small", f.Path, f.Size)
			}
		case KindMedia:
			if f.Size < 2<<20 || f.Size > 5<<20 {
				t.Errorf("media %s is %d bytes, want a few MiB", f.Path, f.Size)
			}
		case KindDB:
			if f.Size != 8<<20 {
				t.Errorf("db %s is %d bytes, want 8 MiB", f.Path, f.Size)
			}
		}
	}
}

func TestDatasetScaleGrows(t *testing.T) {
	small, _ := NewDataset(1, 0.1)
	big, _ := NewDataset(1, 3)
	if !(small.Count("") < big.Count("") && small.Bytes("") < big.Bytes("")) {
		t.Errorf("scale 0.1: %d files %d bytes; scale 3: %d files %d bytes", small.Count(""), small.Bytes(""), big.Count(""), big.Bytes(""))
	}
	for _, k := range []Kind{KindCritical, KindLog, KindMedia, KindDB} {
		if small.Count(k) == 0 {
			t.Errorf("scale 0.1 has no %s file", k)
		}
	}
	if _, err := NewDataset(1, 0); err == nil {
		t.Error("scale 0 accepted")
	}
}

func TestDatasetDeterministic(t *testing.T) {
	a, _ := NewDataset(7, 0.05)
	b, _ := NewDataset(7, 0.05)
	c, _ := NewDataset(8, 0.05)
	if !slices.Equal(a.Files, b.Files) {
		t.Fatal("same seed, different layout")
	}
	if slices.Equal(a.Files, c.Files) {
		t.Error("different seeds, same layout")
	}
	for _, f := range a.Files {
		if !bytes.Equal(a.Content(f), b.Content(f)) {
			t.Fatalf("%s: same seed, different content", f.Path)
		}
		if int64(len(a.Content(f))) != f.Size {
			t.Fatalf("%s: content is %d bytes, spec says %d", f.Path, len(a.Content(f)), f.Size)
		}
	}
}

// The critical files must sort after everything else, so that rsync's name
// order does not happen to favour them, and the globs handed to ferry must
// select exactly them.
func TestCriticalSortLast(t *testing.T) {
	d, _ := NewDataset(1, 1)
	seenCritical := false
	for _, f := range d.Files {
		crit := f.Kind == KindCritical
		if crit != IsCritical(f.Path) {
			t.Errorf("%s: kind %s, IsCritical %v", f.Path, f.Kind, IsCritical(f.Path))
		}
		if seenCritical && !crit {
			t.Errorf("%s sorts after a critical file", f.Path)
		}
		seenCritical = seenCritical || crit
	}
	dirs := map[string]bool{}
	for _, f := range d.Files {
		if f.Kind == KindCritical {
			dirs[f.Path[:strings.LastIndexByte(f.Path, '/')]] = true
		}
	}
	if len(dirs) < 2 {
		t.Errorf("critical files in %d directories, want them scattered", len(dirs))
	}
	for _, g := range CriticalGlobs() {
		if !strings.HasPrefix(g, "zz-") || !strings.HasSuffix(g, "/**") {
			t.Errorf("glob %q", g)
		}
	}
}

func deflated(b []byte) float64 {
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, flate.DefaultCompression)
	w.Write(b)
	w.Close()
	return float64(len(b)) / float64(out.Len())
}

func TestDatasetCompressibility(t *testing.T) {
	d, _ := NewDataset(1, 0.05)
	ratio := map[Kind]float64{}
	for _, k := range []Kind{KindLog, KindMedia, KindDB} {
		var all []byte
		for _, f := range d.Files {
			if f.Kind == k && len(all) < 4<<20 {
				all = append(all, d.Content(f)...)
			}
		}
		ratio[k] = deflated(all)
	}
	if ratio[KindLog] < 3 {
		t.Errorf("logs compress %.2f×, want compressible text", ratio[KindLog])
	}
	if ratio[KindMedia] > 1.01 {
		t.Errorf("media compress %.2f×, want incompressible", ratio[KindMedia])
	}
	if ratio[KindDB] < 1.5 || ratio[KindDB] > 8 {
		t.Errorf("db compresses %.2f×, want database-like", ratio[KindDB])
	}
}

func TestWriteAndEdit(t *testing.T) {
	d, _ := NewDataset(3, 0.02)
	dir := t.TempDir()
	tree, err := PrepareSourceForTest(d, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Files) != d.Count("") {
		t.Fatalf("tree has %d files, data set %d", len(tree.Files), d.Count(""))
	}
	target := d.EditTarget()
	p := filepath.Join(dir, filepath.FromSlash(target.Path))
	before, _ := os.ReadFile(p)
	fi0, _ := os.Stat(p)
	undo, err := d.Edit(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(p)
	fi1, _ := os.Stat(p)
	if len(after) != len(before) {
		t.Fatalf("edit changed the size: %d → %d", len(before), len(after))
	}
	var first, last = -1, -1
	for i := range before {
		if before[i] != after[i] {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	off := int(EditOffset(target.Size))
	if first < off || last >= off+EditSize || last-first < EditSize/2 {
		t.Errorf("changed bytes %d..%d, want inside the %d bytes at %d", first, last, EditSize, off)
	}
	if !fi1.ModTime().After(fi0.ModTime()) {
		t.Error("edit did not move the mtime forward")
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	restored, _ := os.ReadFile(p)
	fi2, _ := os.Stat(p)
	if !bytes.Equal(restored, before) || !fi2.ModTime().Equal(fi0.ModTime()) {
		t.Error("undo did not restore the file")
	}
}

// PrepareSourceForTest writes and hashes the data set like the runner.
func PrepareSourceForTest(d *Dataset, dir string) (*Tree, error) {
	if err := d.Write(dir); err != nil {
		return nil, err
	}
	return ReadTree(dir, nil)
}
