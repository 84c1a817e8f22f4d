package crashtest

import (
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// ferryBin is the ferry command, built once per test binary (without -race:
// the processes under test are the real binary, the race detector watches
// this package's proxy and bookkeeping).
var ferryBin string

var (
	iterations = flag.Int("crash.iterations", 0,
		"kills per crash test (0: $FERRY_CRASH_ITERATIONS, else 20, or 5 with -short)")
	seedFlag = flag.Uint64("crash.seed", 0,
		"base seed for trees and kill delays (0: $FERRY_CRASH_SEED, else the clock; logged by every test)")
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "ferry-crashtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ferryBin = filepath.Join(dir, "ferry")
	out, err := exec.Command("go", "build", "-o", ferryBin, "github.com/ferrysync/ferry/cmd/ferry").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		fmt.Fprintln(os.Stderr, "build ferry:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		// Every child process was waited for and every proxy closed.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// kills returns how many crashes a kill test inflicts: at least 20 in the
// CI-sized form, as the issue asks.
func kills(t *testing.T) int {
	n := *iterations
	if n == 0 {
		if v, err := strconv.Atoi(os.Getenv("FERRY_CRASH_ITERATIONS")); err == nil && v > 0 {
			n = v
		}
	}
	if n == 0 {
		n = 20
		if testing.Short() {
			n = 5
		}
	}
	t.Logf("kills: %d (-crash.iterations or FERRY_CRASH_ITERATIONS to change)", n)
	return n
}

// baseSeed is chosen once per test binary.
var baseSeed = func() uint64 {
	if v, err := strconv.ParseUint(os.Getenv("FERRY_CRASH_SEED"), 10, 64); err == nil && v != 0 {
		return v
	}
	return uint64(time.Now().UnixNano())
}()

// testRand returns the test's generator, seeded from the base seed and the
// test's name so that one test can be re-run alone with the same draws.
func testRand(t *testing.T) *rand.Rand {
	seed := baseSeed
	if *seedFlag != 0 {
		seed = *seedFlag
	}
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	t.Logf("seed: %d (re-run with -crash.seed=%d -run '^%s$')", seed, seed, t.Name())
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}
