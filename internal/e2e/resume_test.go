package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/transfer"
)

// interruptAfter sends src until n chunks went out, then cancels the run,
// as Ctrl-C would. It returns the report of the interrupted run.
func interruptAfter(t *testing.T, src string, n int, chunk int, connect agent.Connect) agent.Report {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	chunks := 0
	opt := agent.Options{Source: src, ChunkSize: chunk, Events: func(e transfer.Event) {
		if e.Kind == transfer.EventProgress {
			if chunks++; chunks == n {
				cancel()
			}
		}
	}}
	plan, err := agent.Scan(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := agent.Send(ctx, time.Now(), plan, opt, connect)
	if err == nil {
		t.Fatal("interrupted run committed")
	}
	return rep
}

// TestResumeExact interrupts a sync in the middle of a large file and
// checks that the next run sends only what the receiver did not journal,
// and that no partial file was ever at its final path.
func TestResumeExact(t *testing.T) {
	const chunk = 64 << 10
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "dst")
	build(t, src, []node{
		{path: "state/a.json", data: "{}"},
		{path: "big.bin", size: 4 << 20},
	})
	first := interruptAfter(t, src, 20, chunk, localConnect(dst, nil))
	if _, err := os.Stat(filepath.Join(dst, "big.bin")); err == nil {
		t.Fatal("a partial big.bin is at its final path")
	}
	rep, err := sendChunk(t, src, chunk, localConnect(dst, nil))
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	total := first.PayloadBytes + rep.PayloadBytes
	size := int64(4<<20 + 2)
	// The interrupted run stops at a chunk boundary and the receiver
	// journals every chunk it got, so nothing is sent twice.
	if total != size {
		t.Errorf("sent %d bytes over both runs for %d bytes of files; want none twice", total, size)
	}
	t.Logf("first run %d bytes, resumed run %d bytes, %d re-sent", first.PayloadBytes, rep.PayloadBytes, total-size)
}

func sendChunk(t *testing.T, src string, chunk int, connect agent.Connect) (agent.Report, error) {
	t.Helper()
	opt := agent.Options{Source: src, ChunkSize: chunk}
	plan, err := agent.Scan(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return agent.Send(context.Background(), time.Now(), plan, opt, connect)
}
