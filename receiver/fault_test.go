package receiver

import (
	"fmt"
	"strings"
	"testing"
)

// ftStep is a durability step and the hit of it that fails.
type ftStep struct {
	name  string
	at    ftHit
	after *ftHit // if set, at counts the hits after this one
	// want is what the error must say besides the file and the cause.
	want string
}

// Files of ftV2 whose steps the table names.
const (
	ftAlarm = "state/alarm.json" // critical, one chunk
	ftNew   = "state/new.json"   // critical, three chunks
	ftEmpty = "logs/empty.log"
	ftLink  = "today.link"
	ftLog   = "logs/today.log"  // six chunks
	ftVideo = "media/video.bin" // bulk, a delta: copied blocks, three chunks of data, copied blocks
)

// ftSteps covers every durability step of a sync of ftV2 over ftV1, an
// existing restore point. The sync goes in this order: the critical class
// (ftAlarm and ftNew, placed in one batch or two) and a checkpoint
// manifest; the normal class (ftEmpty, ftLink, was-file displaced by a
// directory, ftLog) and a second checkpoint; the bulk class (ftVideo) and
// the final commit, which moves old/ to the trash.
var ftSteps = []ftStep{
	// Staging.
	{"create staging file", ftHit{opCreate, ftStagingOf(ftAlarm), 1}, nil, "open staging file for " + ftAlarm},
	{"create staging file of a later file", ftHit{opCreate, ftStagingOf(ftLog), 1}, nil, "open staging file for " + ftLog},
	{"create staged empty file", ftHit{opCreate, ftStagingOf(ftEmpty), 1}, nil, "open staged " + ftEmpty},
	{"create staged link", ftHit{opCreate, ftStagingOf(ftLink), 1}, nil, "create symlink " + ftLink},
	{"truncate staging file", ftHit{opTruncate, ftStagingOf(ftAlarm), 1}, nil, "truncate staging file for " + ftAlarm},
	{"write staging file", ftHit{opWrite, ftStagingOf(ftAlarm), 1}, nil, "write staging file for " + ftAlarm},
	{"write second chunk", ftHit{opWrite, ftStagingOf(ftNew), 2}, nil, "write staging file for " + ftNew},
	{"write copied block", ftHit{opWrite, ftStagingOf(ftVideo), 3}, nil, "write staging file for " + ftVideo},
	{"write data of a delta", ftHit{opWrite, ftStagingOf(ftVideo), 24}, nil, "write staging file for " + ftVideo},
	{"write copied block after data", ftHit{opWrite, ftStagingOf(ftVideo), 30}, nil, "write staging file for " + ftVideo},
	{"create sums", ftHit{opCreate, ftSumsOf(ftNew), 1}, nil, "sync staging file for " + ftNew},
	{"write sums", ftHit{opWrite, ftSumsOf(ftNew), 2}, nil, "sync staging file for " + ftNew},
	{"fsync staging file", ftHit{opSync, ftStagingOf(ftNew), 1}, nil, "sync staging file for " + ftNew},
	{"fsync staging file, later", ftHit{opSync, ftStagingOf(ftLog), 3}, nil, "sync staging file for " + ftLog},
	{"fsync sums", ftHit{opSync, ftSumsOf(ftNew), 1}, nil, "sync staging file for " + ftNew},
	{"fsync sums, later", ftHit{opSync, ftSumsOf(ftLog), 3}, nil, "sync staging file for " + ftLog},
	// Placement: fsync of the staged file, rename, fsync of the directory.
	{"fsync one-chunk file to place", ftHit{opSync, ftStagingOf(ftAlarm), 1}, nil, "place " + ftAlarm},
	{"fsync file to place", ftHit{opSync, ftStagingOf(ftNew), 3}, nil, "place " + ftNew},
	{"fsync empty file to place", ftHit{opSync, ftStagingOf(ftEmpty), 1}, nil, "place " + ftEmpty},
	{"rename into place", ftHit{opRename, ftIs(ftAlarm), 1}, nil, "place " + ftAlarm},
	{"rename into place, later in the batch", ftHit{opRename, ftIs(ftNew), 1}, nil, "place " + ftNew},
	{"rename empty file into place", ftHit{opRename, ftIs(ftEmpty), 1}, nil, "place " + ftEmpty},
	{"rename link into place", ftHit{opRename, ftIs(ftLink), 1}, nil, "place " + ftLink},
	{"rename delta into place", ftHit{opRename, ftIs(ftVideo), 1}, nil, "place " + ftVideo},
	{"fsync directory after placement", ftHit{opSyncDir, ftIs("state"), 1}, nil, "place files in state"},
	{"fsync directory after an empty file", ftHit{opSyncDir, ftIs("logs"), 1}, nil, "place " + ftEmpty},
	{"fsync directory after a link", ftHit{opSyncDir, ftIs("."), 1}, &ftHit{opRename, ftIs(ftLink), 1}, "place " + ftLink},
	{"fsync directory after a delta", ftHit{opSyncDir, ftIs("media"), 1}, nil, "place files in media"},
	{"create directory", ftHit{opCreate, ftIs("was-file"), 1}, nil, "create directory was-file"},
	{"fsync directory after creating one", ftHit{opSyncDir, ftIs("."), 1}, &ftHit{opCreate, ftIs("was-file"), 1}, "create directory was-file"},
	// The trash: was-file displaced during the sync, old/ after the commit.
	{"make trash", ftHit{opCreate, ftTrash, 1}, nil, "make trash for was-file"},
	{"move to the trash", ftHit{opRename, ftTrash, 1}, nil, "move was-file to the trash"},
	{"fsync trash", ftHit{opSyncDir, ftTrash, 1}, nil, "move was-file to the trash"},
	{"fsync directory after a move to the trash", ftHit{opSyncDir, ftIs("."), 1}, &ftHit{opRename, ftTrash, 1}, "move was-file to the trash"},
	{"make trash after commit", ftHit{opCreate, ftTrash, 2}, nil, "make trash for old"},
	{"move deleted entry to the trash", ftHit{opRename, ftTrash, 2}, nil, "move old to the trash"},
	{"fsync trash after commit", ftHit{opSyncDir, ftTrash, 2}, nil, "move old to the trash"},
	{"fsync directory after commit", ftHit{opSyncDir, ftIs("."), 1}, &ftHit{opRename, ftTrash, 2}, "move old to the trash"},
	// The journal.
	{"journal append of a chunk", ftHit{opAppend, ftJournal, 1}, nil, "append to journal"},
	{"journal append of placements", ftHit{opAppend, ftJournal, 1}, &ftHit{opSyncDir, ftIs("state"), 1}, "append to journal"},
	{"journal append of a class done", ftHit{opAppend, ftJournal, 1}, &ftHit{opCompact, ftJournal, 1}, "append to journal"},
	{"journal append of a commit", ftHit{opAppend, ftJournal, 1}, &ftHit{opSyncDir, ftIs(".ferry"), 3}, "append to journal"},
	{"journal fsync of a chunk", ftHit{opAppendSync, ftJournal, 1}, nil, "append to journal"},
	{"journal fsync of placements", ftHit{opAppendSync, ftJournal, 1}, &ftHit{opSyncDir, ftIs("state"), 1}, "append to journal"},
	{"journal fsync of a class done", ftHit{opAppendSync, ftJournal, 1}, &ftHit{opCompact, ftJournal, 1}, "append to journal"},
	{"journal fsync of a commit", ftHit{opAppendSync, ftJournal, 1}, &ftHit{opSyncDir, ftIs(".ferry"), 3}, "append to journal"},
	{"compact journal after a checkpoint", ftHit{opCompact, ftJournal, 1}, nil, "class 0 done: compact journal"},
	{"compact journal", ftHit{opCompact, ftJournal, 3}, nil, "commit: compact journal"},
	// Manifests and HEAD: the first checkpoint's and the final commit's.
	{"create checkpoint manifest", ftHit{opCreate, ftManifest, 1}, nil, "class 0 done: commit"},
	{"write checkpoint manifest", ftHit{opWrite, ftManifest, 1}, nil, "class 0 done: commit"},
	{"fsync checkpoint manifest", ftHit{opSync, ftManifest, 1}, nil, "class 0 done: commit"},
	{"rename checkpoint manifest", ftHit{opRename, ftManifest, 1}, nil, "class 0 done: commit"},
	{"fsync manifests of a checkpoint", ftHit{opSyncDir, ftManifest, 1}, nil, "class 0 done: commit"},
	{"create checkpoint HEAD", ftHit{opCreate, ftHEAD, 1}, nil, "class 0 done: commit"},
	{"write checkpoint HEAD", ftHit{opWrite, ftHEAD, 1}, nil, "class 0 done: commit"},
	{"fsync checkpoint HEAD", ftHit{opSync, ftHEAD, 1}, nil, "class 0 done: commit"},
	{"rename checkpoint HEAD", ftHit{opRename, ftHEAD, 1}, nil, "class 0 done: commit"},
	{"fsync directory of a checkpoint HEAD", ftHit{opSyncDir, ftIs(".ferry"), 1}, nil, "class 0 done: commit"},
	{"create manifest", ftHit{opCreate, ftManifest, 3}, nil, "commit: commit"},
	{"write manifest", ftHit{opWrite, ftManifest, 3}, nil, "commit: commit"},
	{"fsync manifest", ftHit{opSync, ftManifest, 3}, nil, "commit: commit"},
	{"rename manifest", ftHit{opRename, ftManifest, 3}, nil, "commit: commit"},
	{"fsync manifests", ftHit{opSyncDir, ftManifest, 3}, nil, "commit: commit"},
	{"create HEAD", ftHit{opCreate, ftHEAD, 3}, nil, "commit: commit"},
	{"write HEAD", ftHit{opWrite, ftHEAD, 3}, nil, "commit: commit"},
	{"fsync HEAD", ftHit{opSync, ftHEAD, 3}, nil, "commit: commit"},
	{"rename HEAD", ftHit{opRename, ftHEAD, 3}, nil, "commit: commit"},
	{"fsync directory of HEAD", ftHit{opSyncDir, ftIs(".ferry"), 3}, nil, "commit: commit"},
}

// TestFaultEachStep injects an I/O error at each durability step of a
// sync over an existing restore point, through a hub that keeps the
// namespace open and through a local destination that opens it for each
// sync. The sync ends with an error that names the step, the file (by its
// path in the namespace) and the cause; the restore point HEAD names is
// whole; nothing partial is at a final path and nothing is written outside
// the namespace. Once the fault is gone the next sync completes, commits a
// restore point of the new tree and is sent again at most a chunk of what
// the failed one was sent.
func TestFaultEachStep(t *testing.T) {
	v1, v2 := ftV1(), ftV2()
	base := ftNewTarget(t, false, "")
	ftSyncOK(t, base, v1)
	before := ftHead(t, base.dir)
	for _, via := range []string{"hub", "local"} {
		for _, s := range ftSteps {
			t.Run(via+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				tg := ftNewTarget(t, via == "hub", base.dir)

				f := &ftFault{at: s.at, after: s.after}
				tg.inject(f)
				failed := ftSync(t, tg, v2)
				tg.inject(nil)
				if len(f.fired) == 0 {
					t.Fatalf("the sync never reached hit %d of %v (%d hits)", s.at.nth, s.at.op, f.hits)
				}
				ftCheckError(t, tg, failed, f.fired[0], s.want)
				ftCheckPoint(t, tg.dir, before, v2)
				ftCheckWhole(t, tg.dir, v1, v2)
				ftCheckConfined(t, tg.dir)

				again := ftSyncOK(t, tg, v2)
				ftCheckTree(t, tg.dir, v2)
				p := ftHead(t, tg.dir)
				if p.seq <= before.seq {
					t.Errorf("restore point after the fault is gone: %d, want one after %d", p.seq, before.seq)
				}
				ftCheckComplete(t, tg.dir, p, v2)
				if n := again.resent(failed); n > recChunk {
					t.Errorf("%d bytes sent again after the fault; want at most a chunk (%d)", n, recChunk)
				}
			})
		}
	}
}

// ftCheckError fails t unless the failed sync r ended with the injected
// error, saying want, naming the file fired by its path in the namespace
// and never the namespace's own path; and unless the sender, if the
// session began, was told.
func ftCheckError(t *testing.T, tg *ftTarget, r ftResult, fired, want string) {
	t.Helper()
	err := r.err()
	if err == nil {
		t.Fatalf("the sync ended with receiver %v, sender %v, failed %v, committed %+v; want the injected error",
			r.recvErr, r.sendErr, r.res.Failed, r.res.Committed)
	}
	t.Logf("error: %v", err)
	msg := err.Error()
	if !strings.Contains(msg, want) {
		t.Errorf("error %q does not say %q", msg, want)
	}
	if !strings.Contains(msg, fired) {
		t.Errorf("error %q does not name %s", msg, fired)
	}
	if strings.Contains(strings.ReplaceAll(msg, fmt.Sprintf("open namespace %s:", tg.dir), ""), tg.dir) {
		t.Errorf("error %q names the namespace's own path", msg)
	}
	if r.began && !strings.Contains(r.senderSaw(), errInjected.Error()) {
		t.Errorf("the sender was told %q; want the cause", r.senderSaw())
	}
}
