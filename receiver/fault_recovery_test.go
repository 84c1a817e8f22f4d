package receiver

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/transfer"
)

// ftInterrupted returns a copy of the namespace base (ftV1 committed)
// with what interrupted syncs of ftV2 leave for recovery: ftNew staged two
// chunks deep but its sums lost, ftLog with five chunks staged of which a
// journal group of four is journaled, staging no record accounts for and
// a manifest HEAD never named. It also returns what the journal vouches
// for, as writes.
func ftInterrupted(t *testing.T, base string) (dir string, durable ftResult) {
	t.Helper()
	v2 := ftV2()
	dir = filepath.Join(t.TempDir(), "ns")
	ftCopy(t, base, dir)
	st, err := Open(dir, Options{Group: resume.Grouper{MaxChunks: 4}})
	if err != nil {
		t.Fatal(err)
	}
	nw := recFile{path: ftNew, data: v2[ftNew].data}
	ss := recBegin(t, st)
	recOffer(t, ss, nw.offer(1))
	recWrite(t, ss, nw.offer(1), nw.data, 0, 2*recChunk)
	if err := ss.Close(); err != nil {
		t.Fatal(err)
	}
	log := recFile{path: ftLog, data: v2[ftLog].data}
	ss = recBegin(t, st)
	recOffer(t, ss, log.offer(1))
	recWrite(t, ss, log.offer(1), log.data, 0, 5*recChunk)
	recCrash(ss)

	_, sums := recStaging(dir, ftNew)
	if err := os.Remove(sums); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, transfer.StateDir)
	for _, junk := range []string{filepath.Join(state, "staging", "junk"), filepath.Join(state, "manifests", fmt.Sprintf("%020d.json", 99))} {
		if err := os.WriteFile(junk, []byte("junk\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, ftResult{writes: []ftWrite{{ftLog, recSum(log.data), 0, 4 * recChunk}}}
}

// TestFaultRecovery injects an I/O error at each write of recovery, when
// a local destination opens a namespace that interrupted syncs left: the
// open fails with an error that names the step, the file and the cause;
// the restore point and the journaled staging stay; once the fault is gone
// the next sync resumes the journaled chunks and completes.
func TestFaultRecovery(t *testing.T) {
	v1, v2 := ftV1(), ftV2()
	base := ftNewTarget(t, false, "")
	ftSyncOK(t, base, v1)
	before := ftHead(t, base.dir)
	crashed, durable := ftInterrupted(t, base.dir)

	for _, s := range []ftStep{
		{"open journal", ftHit{opCreate, ftJournal, 1}, nil, "open journal"},
		{"remove unaccounted staging", ftHit{opRemove, ftIs(stagingDir + "/junk"), 1}, nil, "remove unaccounted staging junk"},
		{"cut staging back to the journal", ftHit{opTruncate, ftStagingOf(ftLog), 1}, nil, "cut staging of " + ftLog + " back to its journal"},
		{"fsync cut staging", ftHit{opSync, ftStagingOf(ftLog), 1}, nil, "cut staging of " + ftLog + " back to its journal"},
		{"journal a dropped staging", ftHit{opAppend, ftJournal, 1}, nil, "append to journal"},
		{"fsync journal of a dropped staging", ftHit{opAppendSync, ftJournal, 1}, nil, "append to journal"},
		{"remove manifest HEAD never named", ftHit{opRemove, ftManifest, 1}, nil, "remove uncommitted manifest"},
	} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			tg := ftNewTarget(t, false, crashed)
			tg.inject(&ftFault{at: s.at, after: s.after})
			failed := ftSync(t, tg, v2)
			f := tg.fault.Load()
			tg.inject(nil)
			if len(f.fired) == 0 {
				t.Fatalf("recovery never reached hit %d of %v (%d hits)", s.at.nth, s.at.op, f.hits)
			}
			ftCheckError(t, tg, failed, f.fired[0], s.want)
			ftCheckPoint(t, tg.dir, before, v2)
			ftCheckWhole(t, tg.dir, v1, v2)
			ftCheckConfined(t, tg.dir)

			again := ftSyncOK(t, tg, v2)
			ftCheckTree(t, tg.dir, v2)
			ftCheckComplete(t, tg.dir, ftHead(t, tg.dir), v2)
			if n := again.resent(durable); n > 0 {
				t.Errorf("%d bytes of %s the journal vouched for sent again", n, ftLog)
			}
		})
	}
}

// TestFaultReopenJournal: a hub's session fails at a journal write, and
// the next session's reopening of the journal fails too. The session after
// that recovers and completes.
func TestFaultReopenJournal(t *testing.T) {
	v2 := ftV2()
	base := ftNewTarget(t, false, "")
	ftSyncOK(t, base, ftV1())
	tg := ftNewTarget(t, true, base.dir)

	tg.inject(&ftFault{at: ftHit{opAppend, ftJournal, 1}})
	if r := ftSync(t, tg, v2); r.err() == nil {
		t.Fatalf("sync with a failing journal: receiver %v, sender %v", r.recvErr, r.sendErr)
	}
	f := &ftFault{at: ftHit{opCreate, ftJournal, 1}}
	tg.inject(f)
	r := ftSync(t, tg, v2)
	tg.inject(nil)
	if len(f.fired) == 0 {
		t.Fatal("the next session did not reopen the journal")
	}
	ftCheckError(t, tg, r, f.fired[0], "reopen journal")
	ftSyncOK(t, tg, v2)
	ftCheckTree(t, tg.dir, v2)
	ftCheckComplete(t, tg.dir, ftHead(t, tg.dir), v2)
}

// TestFaultFinishCommit: the final commit's move of deleted entries to the
// trash fails, and so does the next session's attempt to finish it. The
// session after that finishes it: the live tree is the source's, with
// nothing deleted left behind.
func TestFaultFinishCommit(t *testing.T) {
	v2 := ftV2()
	base := ftNewTarget(t, false, "")
	ftSyncOK(t, base, ftV1())
	for _, via := range []string{"hub", "local"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			tg := ftNewTarget(t, via == "hub", base.dir)
			tg.inject(&ftFault{at: ftHit{opRename, ftTrash, 2}})
			r := ftSync(t, tg, v2)
			ftCheckError(t, tg, r, trashDir+"/4/old", "commit: move old to the trash")
			committed := ftHead(t, tg.dir)

			f := &ftFault{at: ftHit{opRename, ftTrash, 1}}
			tg.inject(f)
			r = ftSync(t, tg, v2)
			tg.inject(nil)
			if len(f.fired) == 0 {
				t.Fatal("the next session did not finish the commit")
			}
			ftCheckError(t, tg, r, f.fired[0], fmt.Sprintf("finish commit %d: move old to the trash", committed.seq))
			if p := ftHead(t, tg.dir); p.seq != committed.seq {
				t.Errorf("restore point %d after finishing failed, want %d", p.seq, committed.seq)
			}

			ftSyncOK(t, tg, v2)
			ftCheckTree(t, tg.dir, v2)
			ftCheckComplete(t, tg.dir, ftHead(t, tg.dir), v2)
		})
	}
}

// TestFaultStagingSyncSticks: after an fsync of a staged file failed, the
// file system may report the next one clean without having written the
// pages the first one could not; so no later fsync of that staging, not
// even the one as the session ends, may make the journal vouch for what
// was written before the failure.
func TestFaultStagingSyncSticks(t *testing.T) {
	base := ftNewTarget(t, false, "")
	ftSyncOK(t, base, ftV1())
	for _, s := range []ftStep{
		{"data", ftHit{opSync, ftStagingOf(ftNew), 2}, nil, "sync staging file for " + ftNew},
		{"sums", ftHit{opSync, ftSumsOf(ftNew), 2}, nil, "sync staging file for " + ftNew},
	} {
		t.Run(s.name, func(t *testing.T) {
			tg := ftNewTarget(t, true, base.dir)
			tg.inject(&ftFault{at: s.at})
			r := ftSync(t, tg, ftV2())
			tg.inject(nil)
			ftCheckError(t, tg, r, stageName(ftNew), s.want)
			recs, _, _ := recJournal(t, tg.dir)
			if got := resume.Replay(recs).Staged[ftNew].Offset; got != recChunk {
				t.Errorf("the journal vouches for %d bytes of %s; only the first chunk's fsync succeeded (%d)", got, ftNew, recChunk)
			}
		})
	}
}
