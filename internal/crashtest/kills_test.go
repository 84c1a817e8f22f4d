package crashtest

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// killDelay draws how long after a session started a process is killed:
// a quarter of the kills land in the first 80 ms (the handshake, the offers
// and the resume negotiation), the rest anywhere in the following 0.6 s of
// data.
func killDelay(rng *rand.Rand) time.Duration {
	if rng.IntN(4) == 0 {
		return time.Duration(rng.Int64N(int64(80 * time.Millisecond)))
	}
	return 80*time.Millisecond + time.Duration(rng.Int64N(int64(600*time.Millisecond)))
}

// crashTree is the tree of the kill tests: a few hundred small files in
// nested directories, some of several chunks, and enough bulk data of
// 2–8 MiB files that n kills, each after about 0.3 s of data at 4 MB/s,
// land before the end.
func crashTree(t *testing.T, rng *rand.Rand, n int) *tree {
	spec := treeSpec{critical: 12, small: 250, medium: 8}
	if testing.Short() {
		spec.small = 120
	}
	var total int64
	for total < max(int64(n)*3<<19, 8<<20) { // n × 1.5 MiB, at least 8 MiB
		size := 2<<20 + rng.Int64N(6<<20+1)
		spec.bulk = append(spec.bulk, size)
		total += size
	}
	return makeTree(t, rng, spec)
}

// crashRate is the link of the kill tests, each way.
const crashRate = 4_000_000

// countResumed counts the file starts that resumed at an offset.
func countResumed(evs []event) int {
	n := 0
	for _, e := range evs {
		if e.Event == "file_start" && e.Offset > 0 {
			n++
		}
	}
	return n
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
