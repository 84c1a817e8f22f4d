package resume

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// crashEnv, when set, makes TestCrash the child: it appends to the journal in
// the directory it names until it is killed.
const crashEnv = "FERRY_RESUME_CRASH_DIR"

const (
	crashPath  = "bulk/video.mp4"
	crashChunk = 1 << 20
)

// TestCrash kills a process that appends groups and compacts in a loop, at
// random moments, and checks that the journal it leaves holds whole records
// in sequence, including every group the process saw acknowledged.
func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ".ferry"), 0o700); err != nil {
		t.Fatal(err)
	}
	const seed = 20260822
	rng := rand.New(rand.NewPCG(seed, seed))
	var offset int64 // the highest acknowledged offset so far
	for i := range 20 {
		acked := runAndKill(t, dir, time.Duration(rng.IntN(25_000))*time.Microsecond)
		offset = max(offset, acked)
		got := checkCrashJournal(t, dir)
		if got < offset {
			t.Fatalf("run %d: journal resumes at %d, but %d was acknowledged", i, got, offset)
		}
		offset = got
	}
	if offset == 0 {
		t.Error("no run appended anything")
	}
	t.Logf("seed %d: %d chunks journaled over 20 crashes", seed, offset/crashChunk)
}

// runAndKill starts the child, kills it delay after it opened the journal and
// returns the last offset it reported as acknowledged.
func runAndKill(t *testing.T, dir string, delay time.Duration) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked atomic.Int64
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			switch line := sc.Text(); {
			case line == "ready":
				close(ready)
			case strings.HasPrefix(line, "ack "):
				n, _ := strconv.ParseInt(line[4:], 10, 64)
				acked.Store(n)
			}
		}
	}()
	select {
	case <-ready:
		time.Sleep(delay) // a real process on the real clock: the crash moment
	case <-done:
		t.Fatal("child ended before opening the journal")
	}
	cmd.Process.Kill() // SIGKILL
	<-done
	cmd.Wait()
	return acked.Load()
}

// checkCrashJournal opens the journal, checks that its chunk records are in
// sequence and returns where the file resumes.
func checkCrashJournal(t *testing.T, dir string) int64 {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	j, recs, err := Open(root, journalName)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if n := j.Truncated(); n != 0 {
		t.Logf("cut %d bytes: %v", n, j.TailErr())
	}
	var last int64
	var seq uint64
	for i, r := range recs {
		switch r.Kind {
		case KindChunk:
			if last != 0 && r.Offset != last+crashChunk || r.Path != crashPath || r.FileHash != hash("v") {
				t.Fatalf("record %d: %+v after offset %d", i, r, last)
			}
			last = r.Offset
		case KindCommit:
			if r.Seq <= seq {
				t.Fatalf("record %d: commit %d after %d", i, r.Seq, seq)
			}
			seq = r.Seq
		default:
			t.Fatalf("record %d: unexpected %+v", i, r)
		}
	}
	return Replay(recs).Offset(crashPath, hash("v"))
}

// crashChild appends groups of one to four chunk records, reporting each
// acknowledged offset, and compacts every 25 groups, until it is killed.
func crashChild(t *testing.T, dir string) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	j, recs, err := Open(root, journalName)
	if err != nil {
		t.Fatal(err)
	}
	state := Replay(recs)
	fmt.Println("ready")
	for n := 0; ; n++ {
		if n == 5000 {
			return // the parent is gone
		}
		group := make([]Record, 1+n%4)
		for i := range group {
			group[i] = chunk(crashPath, "v", state.Offset(crashPath, hash("v"))+crashChunk)
			state.Apply(group[i])
		}
		if err := j.Append(group...); err != nil {
			t.Fatal(err)
		}
		fmt.Println("ack", state.Offset(crashPath, hash("v")))
		if n%25 == 24 {
			commit := Record{Kind: KindCommit, Seq: state.LastCommit + 1}
			if err := j.Append(commit); err != nil {
				t.Fatal(err)
			}
			state.Apply(commit)
			if err := j.Rewrite(state.Records()); err != nil {
				t.Fatal(err)
			}
		}
	}
}
