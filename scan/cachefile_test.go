package scan

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zeebo/blake3"
)

// sealCache wraps a record body in magic and a valid trailer, so fuzzing
// reaches the record parser instead of stopping at the checksum.
func sealCache(body []byte) []byte {
	b := append([]byte(cacheMagic), body...)
	sum := blake3.Sum256(b)
	return append(b, sum[:]...)
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenRecs is the content of testdata/cache.golden.
func goldenRecs() map[string]cacheRec {
	return map[string]cacheRec{
		"a":             {dev: 1, ino: 2, size: 3, mtime: 4, sum: Sum{5}, used: true},
		"a/b":           {dev: 1, ino: 3, size: 1 << 40, mtime: -1, sum: Sum{6}, used: true},
		"a/b/c.txt":     {size: 0, mtime: 1 << 62, used: true},
		"state/x.json":  {dev: 66306, ino: 1 << 33, size: 96, mtime: oldTime.UnixNano(), sum: Sum{0xaa, 0xbb}, used: true},
		"state/y.json":  {dev: 66306, ino: 1<<33 + 1, size: 97, mtime: oldTime.UnixNano(), sum: Sum{0xcc}, used: true},
		"unused/record": {size: 1},
	}
}

// TestCacheFormatGolden pins the file format: a change to encodeCache that
// would make existing caches unreadable shows up here.
func TestCacheFormatGolden(t *testing.T) {
	golden := filepath.Join("testdata", "cache.golden")
	got := encodeCache(goldenRecs())
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encodeCache differs from %s:\ngot  %x\nwant %x", golden, got, want)
	}
	recs, err := decodeCache(want)
	if err != nil {
		t.Fatal(err)
	}
	wantRecs := goldenRecs()
	delete(wantRecs, "unused/record")
	for p, r := range wantRecs {
		r.used = false
		wantRecs[p] = r
	}
	if diff := cmp.Diff(wantRecs, recs, cmp.AllowUnexported(cacheRec{})); diff != "" {
		t.Errorf("decoded golden file (-want +got):\n%s", diff)
	}
}

func FuzzCacheDecode(f *testing.F) {
	valid := encodeCache(goldenRecs())
	f.Add(valid)
	f.Add(valid[len(cacheMagic) : len(valid)-32])
	f.Add([]byte{})
	f.Add([]byte(cacheMagic))
	f.Add([]byte{0, 1, 'a', 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, img := range [][]byte{data, sealCache(data)} {
			recs, err := decodeCache(img)
			if err != nil {
				continue
			}
			// What decodes re-encodes to the same image and decodes equal.
			for p, r := range recs {
				if p == "" || r.size < 0 || r.used {
					t.Fatalf("decoded bad record %q %+v", p, r)
				}
				r.used = true
				recs[p] = r
			}
			again := encodeCache(recs)
			if string(again) != string(img) {
				t.Fatalf("re-encoding differs:\n%x\n%x", img, again)
			}
			recs2, err := decodeCache(again)
			if err != nil {
				t.Fatal(err)
			}
			for p, r := range recs2 {
				r.used = true
				recs2[p] = r
			}
			if diff := cmp.Diff(recs, recs2, cmp.AllowUnexported(cacheRec{})); diff != "" {
				t.Fatalf("round trip (-first +second):\n%s", diff)
			}
		}
	})
}
