//go:build linux

package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/transfer"
)

// TestMinFree: a file declared larger than the hub's disk can hold above
// its reserve is refused at its offer, before a byte of it is written; the
// other files of the run are placed, and the restore point is partial.
func TestMinFree(t *testing.T) {
	mnt := dfMount(t, 4<<20)
	dev := mustIdentity(t)
	h, stop := serveHub(t, mnt, map[identity.ID]string{dev.ID: "edge"}, func(rh *receiver.Hub) {
		rh.Limits.MinFree = 1 << 20
	})
	defer stop()
	src := t.TempDir()
	build(t, src, []node{
		{path: "state/alarm.json", data: `{"alarm":"on"}`},
		{path: "media/big.bin", size: 3 << 20}, // fits the disk, not its reserve
		{path: "zz/after.txt", data: "after"},
	})
	rep, err := sendOpt(t, agent.Options{Source: src}, agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if rep.Committed.Complete || len(rep.Failed) != 1 || rep.Failed[0].Path != "media/big.bin" {
		t.Fatalf("restore point %+v, failed %v; want a partial one without media/big.bin", rep.Committed, rep.Failed)
	}
	msg := rep.Failed[0].Err.Error()
	t.Logf("refused: %s", msg)
	if !strings.Contains(msg, "keeps 1048576") || !errors.Is(rep.Failed[0].Err, transfer.ErrNoSpace) {
		t.Errorf("refusal %q: want it to name the reserve and be ErrNoSpace", msg)
	}
	if rep.PayloadBytes > 64<<10 {
		t.Errorf("sent %d payload bytes; the big file should be refused before its data", rep.PayloadBytes)
	}
	ns := filepath.Join(mnt, "edge")
	for _, p := range []string{"state/alarm.json", "zz/after.txt"} {
		if _, err := os.Stat(filepath.Join(ns, p)); err != nil {
			t.Errorf("%s not placed: %v", p, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(ns, "media/big.bin")); err == nil {
		t.Error("media/big.bin is at its final path")
	}
	if free := dfFree(t, mnt) * dfPage; free < 1<<20 {
		t.Errorf("%d bytes free after the run; the reserve is 1 MiB", free)
	}
}
