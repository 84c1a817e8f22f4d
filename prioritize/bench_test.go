package prioritize

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/scan"
)

// benchEntries is a tree of n files in directories of 100, with a mix of
// state, logs, media and database files.
func benchEntries(n int) []scan.Entry {
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []string{"state/%d.json", "logs/%d.log", "media/%d.mp4", "db/%d.dat", "db/%d.idx", "misc/%d.txt", "tmp/%d.tmp"}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var es []scan.Entry
	for d := 0; d*100 < n; d++ {
		dir := fmt.Sprintf("dev%04d", d)
		es = append(es, scan.Entry{Path: dir, Kind: scan.Dir, ModTime: t0})
		for i := 0; i < 100 && d*100+i < n; i++ {
			p := dir + "/" + fmt.Sprintf(kinds[rng.IntN(len(kinds))], i)
			es = append(es, scan.Entry{Path: p, Kind: scan.File, Size: rng.Int64N(1 << 30), ModTime: t0})
		}
	}
	return es
}

func BenchmarkOrder(b *testing.B) {
	es := benchEntries(100_000)
	rules, err := ParseRules(strings.NewReader(`
critical */state/**
critical *.json
bulk *.mp4
bulk media/
exclude *.tmp
after *.idx *.dat
`), "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Order(es, rules); err != nil {
			b.Fatal(err)
		}
	}
}
