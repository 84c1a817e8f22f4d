package receiver

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrysync/ferry/transfer"
)

// FuzzDecodeManifest feeds arbitrary bytes to DecodeManifest, which guards
// every path the receiver derives from a manifest on disk. It must not
// panic; a manifest it accepts names only valid paths and link targets that
// stay inside the tree, and reads back the same after it is written again.
// The seed corpus in testdata/fuzz/FuzzDecodeManifest holds a manifest a
// real sync committed.
func FuzzDecodeManifest(f *testing.F) {
	for _, tt := range hostileManifests {
		f.Add([]byte(tt.json))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeManifest(data)
		if err != nil {
			if m != nil {
				t.Fatalf("error %v with a manifest", err)
			}
			return
		}
		for _, e := range m.Entries {
			if err := transfer.ValidPath(e.Path); err != nil {
				t.Fatalf("accepted entry with a bad path: %v", err)
			}
			if e.Kind == "symlink" {
				if err := transfer.ValidLinkTarget(e.Path, e.Target); err != nil {
					t.Fatalf("accepted a link leaving the tree: %v", err)
				}
			}
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("accepted manifest does not encode: %v", err)
		}
		m2, err := DecodeManifest(again)
		if err != nil {
			t.Fatalf("accepted manifest, written again, is refused: %v\n%s", err, again)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatalf("manifest changed when written again (-first +second):\n%s", diff)
		}
	})
}

// hostileManifests are manifests a damaged or planted file could hold. The
// fuzz target starts from them too.
var hostileManifests = []struct {
	name string
	json string
	ok   bool
}{
	{"valid", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"a","kind":"dir","mode":493},{"path":"a/b","kind":"file","size":1,"mode":420,"hash":"af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},{"path":"a/l","kind":"symlink","mode":511,"hash":"af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262","target":"b"}]}`, true},
	{"parent path", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"../x","kind":"dir"}]}`, false},
	{"absolute path", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"/etc/passwd","kind":"dir"}]}`, false},
	{"climbing path", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"a/../../x","kind":"dir"}]}`, false},
	{"state directory", `{"version":1,"seq":1,"kind":"partial","entries":[{"path":".ferry/HEAD","kind":"dir"}]}`, false},
	{"backslash", `{"version":1,"seq":1,"kind":"partial","entries":[{"path":"a\\..\\..\\x","kind":"dir"}]}`, false},
	{"NUL", `{"version":1,"seq":1,"kind":"partial","entries":[{"path":"a\u0000b","kind":"dir"}]}`, false},
	{"link out", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"l","kind":"symlink","target":"../../etc"}]}`, false},
	{"absolute link", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"l","kind":"symlink","target":"/etc"}]}`, false},
	{"link up after a name", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"d/l","kind":"symlink","target":"a/../.."}]}`, false},
	{"link to state", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"d/l","kind":"symlink","target":"../.ferry"}]}`, false},
	{"path twice", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"a","kind":"dir"},{"path":"a","kind":"dir"}]}`, false},
	{"file without hash", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"a","kind":"file","size":3}]}`, false},
	{"negative size", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"a","kind":"file","size":-1,"hash":"af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"}]}`, false},
	{"unknown kind", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"a","kind":"fifo"}]}`, false},
	{"unknown manifest kind", `{"version":1,"seq":1,"kind":"whole","entries":[]}`, false},
	{"future version", `{"version":2,"seq":1,"kind":"complete","entries":[]}`, false},
	{"short hash", `{"version":1,"seq":1,"kind":"complete","entries":[{"path":"a","kind":"file","hash":"af13"}]}`, false},
	{"not JSON", `{"version":1,`, false},
}

// TestDecodeManifestHostile checks the cases above one by one.
func TestDecodeManifestHostile(t *testing.T) {
	for _, tt := range hostileManifests {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			m, err := DecodeManifest([]byte(tt.json))
			if got := err == nil; got != tt.ok {
				t.Fatalf("DecodeManifest: %v, want ok %v", err, tt.ok)
			}
			if err != nil {
				t.Logf("refused: %v", err)
				return
			}
			if len(m.Entries) != 3 {
				t.Errorf("got %d entries, want 3", len(m.Entries))
			}
		})
	}
}

// TestFuzzDecodeManifestSeed checks that the seed corpus still holds manifests
// this build accepts, so that the fuzzer starts from the accepting path.
func TestFuzzDecodeManifestSeed(t *testing.T) {
	names, err := filepath.Glob("testdata/fuzz/FuzzDecodeManifest/demo-*")
	if err != nil || len(names) == 0 {
		t.Fatalf("no seed manifests: %v", err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		q, ok := strings.CutPrefix(rest, "[]byte(")
		q, ok2 := strings.CutSuffix(q, ")")
		data, err := strconv.Unquote(q)
		if !ok || !ok2 || err != nil {
			t.Fatalf("%s: not a corpus file: %v", name, err)
		}
		m, err := DecodeManifest([]byte(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(m.Entries) == 0 || m.Files == 0 {
			t.Errorf("%s: %d entries, %d files; want a real tree", name, len(m.Entries), m.Files)
		}
	}
}
