package bench

import (
	"bytes"
	"slices"
	"testing"
)

func TestLargeDatasetShapeAtScale1(t *testing.T) {
	d, err := NewLargeDataset(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := d.Count(""); n != LargeFiles {
		t.Errorf("files = %d, want %d", n, LargeFiles)
	}
	if b := d.Bytes(""); b < 28<<20 || b > 42<<20 {
		t.Errorf("bytes = %d, want about 35 MiB", b)
	}
	want := map[Kind]int{KindMedia: 2, KindImage: 1, KindDB: 1}
	for k, n := range want {
		if got := d.Count(k); got != n {
			t.Errorf("%s files = %d, want %d", k, got, n)
		}
	}
	for _, f := range d.Files {
		if f.Size < 6<<20 || f.Size > 12<<20 {
			t.Errorf("%s is %d bytes, want 6 to 12 MiB", f.Path, f.Size)
		}
		if f.Kind == KindDB && f.Size%pageSize != 0 {
			t.Errorf("%s is %d bytes, want whole pages", f.Path, f.Size)
		}
	}
	if !d.Large {
		t.Error("Large not set")
	}
}

func TestLargeDatasetScale(t *testing.T) {
	one, _ := NewLargeDataset(1, 1)
	two, _ := NewLargeDataset(1, 2)
	tiny, _ := NewLargeDataset(1, 0.001)
	if two.Count("") != LargeFiles || tiny.Count("") != LargeFiles {
		t.Errorf("files at scale 2: %d, at 0.001: %d; want %d at any scale", two.Count(""), tiny.Count(""), LargeFiles)
	}
	if r := float64(two.Bytes("")) / float64(one.Bytes("")); r < 1.99 || r > 2.01 {
		t.Errorf("scale 2 holds %.3f× scale 1's bytes, want 2×", r)
	}
	for _, f := range tiny.Files {
		if f.Size < pageSize {
			t.Errorf("scale 0.001: %s is %d bytes, want at least a page", f.Path, f.Size)
		}
	}
	for _, s := range []float64{0, -1, 1001} {
		if _, err := NewLargeDataset(1, s); err == nil {
			t.Errorf("scale %v accepted", s)
		}
	}
}

func TestLargeDatasetDeterministic(t *testing.T) {
	a, _ := NewLargeDataset(7, 0.02)
	b, _ := NewLargeDataset(7, 0.02)
	c, _ := NewLargeDataset(8, 0.02)
	if !slices.Equal(a.Files, b.Files) {
		t.Fatal("same seed, different layout")
	}
	if slices.Equal(a.Files, c.Files) {
		t.Error("different seeds, same layout")
	}
	// The same seed and index in the main set must not give the same
	// bytes: the two sets draw from streams of their own.
	other := *a
	other.Large = false
	for i, f := range a.Files {
		got := a.Content(f)
		if int64(len(got)) != f.Size {
			t.Fatalf("%s: content is %d bytes, spec says %d", f.Path, len(got), f.Size)
		}
		if !bytes.Equal(got, b.Content(b.Files[i])) {
			t.Fatalf("%s: same seed, different content", f.Path)
		}
		if bytes.Equal(got[:64], c.Content(c.Files[i])[:64]) {
			t.Errorf("%s: different seeds, same content", f.Path)
		}
		if bytes.Equal(got, other.Content(f)) {
			t.Errorf("%s: same content as the main set's stream", f.Path)
		}
	}
}

func TestLargeDatasetCompressibility(t *testing.T) {
	d, _ := NewLargeDataset(1, 0.1)
	for _, f := range d.Files {
		r := deflated(d.Content(f))
		switch f.Kind {
		case KindMedia, KindImage:
			if r > 1.01 {
				t.Errorf("%s compresses %.2f×, want incompressible", f.Path, r)
			}
		case KindDB:
			if r < 1.5 || r > 8 {
				t.Errorf("%s compresses %.2f×, want database-like", f.Path, r)
			}
		}
	}
}

func TestLargeDatasetWrite(t *testing.T) {
	d, _ := NewLargeDataset(3, 0.01)
	tree, err := PrepareSourceForTest(d, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Files) != LargeFiles {
		t.Fatalf("tree has %d files, want %d", len(tree.Files), LargeFiles)
	}
	for _, f := range d.Files {
		if e := tree.Files[f.Path]; e.Size != f.Size {
			t.Errorf("%s: %d bytes on disk, spec says %d", f.Path, e.Size, f.Size)
		}
	}
}
