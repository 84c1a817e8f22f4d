package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// rcvChunk is the chunk size of the recovery tests: small, so that a file
// of a few hundred KiB has many chunks.
const rcvChunk = 16 << 10

// rcvSend runs one sync of src to the local destination dst, calling hook
// with each event.
func rcvSend(t *testing.T, src, dst string, hook func(transfer.Event)) (agent.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opt := agent.Options{Source: src, ChunkSize: rcvChunk, Events: hook}
	plan, err := agent.Scan(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	return agent.Send(ctx, time.Now(), plan, opt, localConnect(dst, nil))
}

// rcvManifest reads manifest seq of the namespace dst.
func rcvManifest(t *testing.T, dst string, seq uint64) *receiver.Manifest {
	t.Helper()
	root, err := os.OpenRoot(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	m, err := receiver.ReadManifest(root, seq)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rcvEntry returns the manifest's entry for p.
func rcvEntry(m *receiver.Manifest, p string) (receiver.Entry, bool) {
	for _, e := range m.Entries {
		if e.Path == p {
			return e, true
		}
	}
	return receiver.Entry{}, false
}

// TestRecoveryChangedWhileSent changes a source file between its offer
// (and hash) and its data: the receiver refuses it, the sender reports it
// as changed, the run's manifest keeps what the live tree holds, and the
// next run sends the new content.
func TestRecoveryChangedWhileSent(t *testing.T) {
	const size = 12 * rcvChunk
	const name = "data/f.bin"
	for _, tc := range []struct {
		name     string
		previous bool // a version of the file was committed before
		resumed  bool // the run that sees the change resumes a staged prefix
		shrink   bool // the file shrinks rather than changes in place
	}{
		{name: "new file"},
		{name: "changed file", previous: true},
		{name: "shrunk file", previous: true, shrink: true},
		{name: "resumed file", previous: true, resumed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := t.TempDir(), filepath.Join(t.TempDir(), "dst")
			build(t, src, []node{{path: "a.json", data: `{"a":1}`}, {path: name, size: size, seeded: 1}})
			fpath := filepath.Join(src, filepath.FromSlash(name))
			var v1 scan.Sum
			if tc.previous {
				if _, err := rcvSend(t, src, dst, nil); err != nil {
					t.Fatal(err)
				}
				v1 = blake3Sum(randomBytes(name, 1, size))
				build(t, src, []node{{path: name, size: size, seeded: 2}})
			}
			v2 := blake3Sum(randomBytes(name, 2, size))
			if !tc.previous {
				v2 = blake3Sum(randomBytes(name, 1, size))
			}
			if tc.resumed {
				interruptAfter(t, src, 4, rcvChunk, localConnect(dst, nil))
			}

			// The change lands once the receiver asked for the bytes:
			// after the hash was taken and offered.
			v3 := randomBytes(name, 3, size)
			if tc.shrink {
				v3 = v3[:size/2]
			}
			var startAt int64 = -1
			rep, err := rcvSend(t, src, dst, func(e transfer.Event) {
				if e.Kind == transfer.EventStart && e.Item.Path == name {
					startAt = e.Offset
					if err := os.WriteFile(fpath, v3, 0o644); err != nil {
						t.Error(err)
					}
				}
			})
			if err != nil {
				t.Fatalf("run with a file changing under it: %v", err)
			}
			if startAt < 0 {
				t.Fatalf("the receiver never asked for %s", name)
			}
			if tc.resumed && startAt == 0 {
				t.Errorf("the run after the interruption did not resume %s", name)
			}
			if len(rep.Failed) != 1 || rep.Failed[0].Path != name {
				t.Fatalf("failed entries %v, want %s", rep.Failed, name)
			}
			if ferr := rep.Failed[0].Err; !errors.Is(ferr, transfer.ErrChanged) {
				t.Errorf("%s failed with %q (code %d), want an error that says the source changed (%v)",
					name, ferr, transfer.CodeOf(ferr), transfer.ErrChanged)
			}
			if rep.Committed.Complete {
				t.Errorf("run with a failed file committed a complete manifest")
			}
			m := rcvManifest(t, dst, rep.Committed.Seq)
			e, listed := rcvEntry(m, name)
			switch {
			case tc.previous && !listed:
				t.Errorf("manifest %d dropped the previous version of %s", m.Seq, name)
			case tc.previous && (e.Hash == nil || *e.Hash != v1):
				t.Errorf("manifest %d claims %s has hash %v; the live tree holds %v", m.Seq, name, e.Hash, v1)
			case !tc.previous && listed:
				t.Errorf("manifest %d lists %s (hash %v), which was never placed", m.Seq, name, e.Hash)
			}
			if listed && e.Hash != nil && (*e.Hash == v2 || *e.Hash == blake3Sum(v3)) {
				t.Errorf("manifest %d claims the offered or the changed content of %s", m.Seq, name)
			}
			got, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(name)))
			switch {
			case tc.previous && (err != nil || blake3Sum(got) != v1):
				t.Errorf("%s at the destination is not its previous version (err %v)", name, err)
			case !tc.previous && err == nil:
				t.Errorf("%s was placed although its content changed while it was sent", name)
			}

			// The next run sends the new content, all of it.
			rep, err = rcvSend(t, src, dst, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Failed) != 0 || !rep.Committed.Complete {
				t.Errorf("next run: failed %v, committed %+v", rep.Failed, rep.Committed)
			}
			if rep.PayloadBytes != int64(len(v3)) {
				t.Errorf("next run sent %d bytes, want the %d of the new content", rep.PayloadBytes, len(v3))
			}
			sameTree(t, src, dst)
		})
	}
}

// TestRecoveryStagedThenChanged interrupts a run inside a file, changes
// the file, and checks that the next run sends it from the start and
// nothing of the stale staging survives.
func TestRecoveryStagedThenChanged(t *testing.T) {
	const size = 10 * rcvChunk
	const name = "f.bin"
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "dst")
	build(t, src, []node{{path: name, size: size, seeded: 1}})
	first := interruptAfter(t, src, 4, rcvChunk, localConnect(dst, nil))
	if first.PayloadBytes == 0 {
		t.Fatalf("the interrupted run sent nothing")
	}
	build(t, src, []node{{path: name, size: size, seeded: 2}})
	var startAt int64 = -1
	rep, err := rcvSend(t, src, dst, func(e transfer.Event) {
		if e.Kind == transfer.EventStart {
			startAt = e.Offset
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if startAt != 0 || rep.PayloadBytes != size {
		t.Errorf("changed file resumed at %d, %d bytes sent; want all %d from 0", startAt, rep.PayloadBytes, size)
	}
	sameTree(t, src, dst)
	staging, err := os.ReadDir(filepath.Join(dst, transfer.StateDir, "staging"))
	if err != nil {
		t.Fatal(err)
	}
	if len(staging) != 0 {
		t.Errorf("staging not empty after a complete run: %d entries", len(staging))
	}
}
