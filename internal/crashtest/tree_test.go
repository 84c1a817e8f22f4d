package crashtest

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zeebo/blake3"
)

// srcFile is a source file: its size and BLAKE3.
type srcFile struct {
	size int64
	sum  [32]byte
}

// tree is a source tree built for a test; the source never changes.
type tree struct {
	dir   string
	files map[string]srcFile // by slash path
	dirs  map[string]bool
	bytes int64
}

// treeSpec says what makeTree builds.
type treeSpec struct {
	critical int     // state/*.json, a few hundred bytes each (--critical 'state/**')
	small    int     // text files of 0–16 KiB in nested directories
	medium   int     // text files of 100–400 KiB: several chunks each
	bulk     []int64 // random data under media/ (--bulk 'media/**')
}

var dirNames = []string{"logs", "cfg", "db", "spool", "var", "cam", "2026", "site-a", "site-b", "x"}

func makeTree(t *testing.T, rng *rand.Rand, spec treeSpec) *tree {
	t.Helper()
	tr := &tree{dir: t.TempDir(), files: map[string]srcFile{}, dirs: map[string]bool{}}
	add := func(p string, data []byte) {
		full := filepath.Join(tr.dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tr.files[p] = srcFile{size: int64(len(data)), sum: blake3.Sum256(data)}
		tr.bytes += int64(len(data))
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			tr.dirs[d] = true
		}
	}
	nested := func() string {
		depth := rng.IntN(5) // 0–4 directories
		var parts []string
		for range depth {
			parts = append(parts, dirNames[rng.IntN(len(dirNames))])
		}
		return strings.Join(parts, "/")
	}
	for i := range spec.critical {
		add(fmt.Sprintf("state/sensor-%03d.json", i), fmt.Appendf(nil, `{"sensor":%d,"alarm":%v,"value":%.4f}`+"\n", i, rng.IntN(2) == 0, rng.Float64()))
	}
	for i := range spec.small {
		size := rng.IntN(16 << 10)
		if i%50 == 0 {
			size = 0
		}
		add(path.Join(nested(), fmt.Sprintf("f%04d.log", i)), text(rng, size))
	}
	for i := range spec.medium {
		add(path.Join("db", nested(), fmt.Sprintf("m%03d.txt", i)), text(rng, 100<<10+rng.IntN(300<<10)))
	}
	for i, size := range spec.bulk {
		data := make([]byte, size)
		var seed [32]byte
		for j := range seed {
			seed[j] = byte(rng.Uint32())
		}
		rand.NewChaCha8(seed).Read(data)
		add(fmt.Sprintf("media/cam%d/clip-%02d.bin", i%2, i), data)
	}
	return tr
}

// text returns n bytes of log-like lines.
func text(rng *rand.Rand, n int) []byte {
	b := make([]byte, 0, n+64)
	for len(b) < n {
		b = fmt.Appendf(b, "2026-07-%02d %02d:%02d:%02d sensor=%d value=%.5f ok\n",
			1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1000), rng.Float64()*100)
	}
	return b[:n]
}

// senderRules are the rules every test sends with: critical state first,
// bulk media last, so that a run crosses class boundaries (and commits
// checkpoint manifests) along the way.
var senderRules = []string{"--critical", "state/**", "--bulk", "media/**"}

// liveFile is a regular file found at a final path on the receiver.
type liveFile struct {
	size int64
	sum  [32]byte
}

// checkLive walks the namespace's live tree (everything but .ferry) and
// returns what it holds and every problem: a file at a final path must be
// byte for byte the source file of that path (compared by size and
// BLAKE3); it may be missing, never partial, wrong or unknown.
func (tr *tree) checkLive(ns string) (map[string]liveFile, []string) {
	live := map[string]liveFile{}
	var problems []string
	if !exists(ns) {
		return live, nil
	}
	err := filepath.WalkDir(ns, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // moved by a running hub while we walked
			}
			problems = append(problems, fmt.Sprintf("walk %s: %v", full, err))
			return nil
		}
		rel, _ := filepath.Rel(ns, full)
		p := filepath.ToSlash(rel)
		switch {
		case p == ".":
			return nil
		case p == ".ferry":
			return fs.SkipDir
		case d.IsDir():
			if !tr.dirs[p] {
				problems = append(problems, fmt.Sprintf("%s: a directory the source does not have", p))
			}
			return nil
		case !d.Type().IsRegular():
			problems = append(problems, fmt.Sprintf("%s: not a regular file (%v)", p, d.Type()))
			return nil
		}
		data, err := os.ReadFile(full)
		if err != nil {
			if !os.IsNotExist(err) {
				problems = append(problems, fmt.Sprintf("%s: %v", p, err))
			}
			return nil
		}
		lf := liveFile{size: int64(len(data)), sum: blake3.Sum256(data)}
		live[p] = lf
		want, ok := tr.files[p]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: a file the source does not have (%d bytes)", p, lf.size))
		case lf.size != want.size:
			problems = append(problems, fmt.Sprintf("%s: partial or wrong: %d bytes, source has %d", p, lf.size, want.size))
		case lf.sum != want.sum:
			problems = append(problems, fmt.Sprintf("%s: %d bytes but not the source's content", p, lf.size))
		}
		return nil
	})
	if err != nil {
		problems = append(problems, fmt.Sprintf("walk %s: %v", ns, err))
	}
	return live, problems
}

// checkSame reports how the namespace's live tree differs from the source.
func (tr *tree) checkSame(t *testing.T, ns string) {
	t.Helper()
	live, problems := tr.checkLive(ns)
	for p := range tr.files {
		if _, ok := live[p]; !ok {
			problems = append(problems, p+": missing")
		}
	}
	for d := range tr.dirs {
		if fi, err := os.Stat(filepath.Join(ns, filepath.FromSlash(d))); err != nil || !fi.IsDir() {
			problems = append(problems, d+": directory missing")
		}
	}
	report(t, "the live tree is not the source", problems)
}

func report(t *testing.T, what string, problems []string) {
	t.Helper()
	if len(problems) == 0 {
		return
	}
	slices.Sort(problems)
	if len(problems) > 30 {
		problems = append(problems[:30], fmt.Sprintf("... and %d more", len(problems)-30))
	}
	t.Errorf("%s:\n  %s", what, strings.Join(problems, "\n  "))
}

// manifest is the part of a committed manifest these tests read.
type manifest struct {
	Seq     uint64 `json:"seq"`
	Kind    string `json:"kind"`
	Files   int    `json:"files"`
	Bytes   int64  `json:"bytes"`
	Entries []struct {
		Path string `json:"path"`
		Kind string `json:"kind"`
		Size int64  `json:"size"`
		Hash string `json:"hash"`
	} `json:"entries"`
}
