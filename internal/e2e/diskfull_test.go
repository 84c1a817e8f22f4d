//go:build linux

package e2e

// A full disk on the receiver (DESIGN.md guarantee 7): the namespace lives
// on a small tmpfs that the test mounts (as root; skipped otherwise) and
// fills. Whatever step runs out of space, the run ends with an error that
// says the disk is full, the last restore point stays as it was, no partial
// file reaches a final path, and once space is freed the next run completes
// and sends only what was not durable yet.
//
// tmpfs charges file data by the 4 KiB page and nothing else: directories,
// renames, fsyncs and short symlinks cost no space. So on tmpfs a placement
// (rename into the live tree, fsync of the directory) cannot run out of
// space; what can is writing staged data, the sums beside it, the journal
// (chunk records, and the placement records that ride with the next append)
// and the manifest and HEAD of a commit. The tests arrange each of those to
// be the step that fails, by counting pages.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

const (
	// dfPage is tmpfs's unit of space.
	dfPage = 4096
	// dfChunk is the chunk size of these tests: a whole number of pages,
	// so that the staged data of k chunks takes exactly k*dfChunk/dfPage
	// pages.
	dfChunk = 16 << 10
)

// dfGroup journals every chunk on its own, as on a thin link, so that the
// journal's size after each chunk, and the page it needs, is known.
var dfGroup = resume.Grouper{MaxChunks: 1}

// dfMount mounts a tmpfs of size bytes on a fresh directory and unmounts
// it when the test ends. It skips the test when not root or when the
// mount fails (a container without CAP_SYS_ADMIN).
func dfMount(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("disk-full tests mount a small tmpfs, which needs root; skipped")
	}
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0755", size), "ferry-diskfull", dir).CombinedOutput()
	if err != nil {
		t.Skipf("disk-full tests: cannot mount a tmpfs on %s (%v: %s); skipped", dir, err, bytes.TrimSpace(out))
	}
	// Registered after TempDir's own cleanup, so it runs before it.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, bytes.TrimSpace(out))
			exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

// dfRemount resizes the tmpfs mounted on dir.
func dfRemount(t *testing.T, dir string, size int64) {
	t.Helper()
	out, err := exec.Command("mount", "-o", fmt.Sprintf("remount,size=%d", size), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("remount %s with %d bytes: %v: %s", dir, size, err, bytes.TrimSpace(out))
	}
}

// dfFree returns the free pages of the file system holding dir.
func dfFree(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Bsize != dfPage {
		t.Fatalf("%s: block size %d, these tests count %d-byte pages", dir, st.Bsize, dfPage)
	}
	return int64(st.Bavail)
}

// dfBallast writes a file of pages pages at p, taking that much space.
func dfBallast(t *testing.T, p string, pages int64) {
	t.Helper()
	if pages < 0 {
		t.Fatalf("ballast of %d pages: the tmpfs is already too full for this arrangement", pages)
	}
	if err := os.WriteFile(p, make([]byte, pages*dfPage), 0o600); err != nil {
		t.Fatalf("ballast: %v", err)
	}
}

// dfSend runs one sync of src with dfChunk chunks and no retries.
func dfSend(t *testing.T, src string, connect agent.Connect) (agent.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	opt := agent.Options{Source: src, ChunkSize: dfChunk}
	plan, err := agent.Scan(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	return agent.Send(ctx, time.Now(), plan, opt, connect)
}

// dfSendOK runs one sync that must commit a complete restore point.
func dfSendOK(t *testing.T, src string, connect agent.Connect) agent.Report {
	t.Helper()
	rep, err := dfSend(t, src, connect)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if !rep.Committed.Complete || len(rep.Failed) != 0 {
		t.Fatalf("sync committed %+v, failed %v; want a complete restore point", rep.Committed, rep.Failed)
	}
	return rep
}

// dfPoint is a restore point as it is on disk: HEAD and its manifest.
type dfPoint struct {
	seq      uint64
	manifest []byte
	m        *receiver.Manifest
}

// dfHead reads the namespace's restore point: HEAD, the manifest it names
// (through receiver.ReadManifest, which checks it) and that manifest's
// bytes.
func dfHead(t *testing.T, ns string) dfPoint {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ns, transfer.StateDir, "HEAD"))
	if err != nil {
		t.Fatalf("read HEAD: %v", err)
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("HEAD holds %q: %v", b, err)
	}
	root, err := os.OpenRoot(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	m, err := receiver.ReadManifest(root, seq)
	if err != nil {
		t.Fatalf("the restore point HEAD names is unreadable: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(ns, transfer.StateDir, "manifests", fmt.Sprintf("%020d.json", seq)))
	if err != nil {
		t.Fatal(err)
	}
	return dfPoint{seq: seq, manifest: data, m: m}
}

// dfCheckFull fails t unless err is the end of a run that committed
// nothing because the receiver's disk is full, in the step named by step.
func dfCheckFull(t *testing.T, rep agent.Report, err error, step string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the run committed %+v on a full disk", rep.Committed)
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, transfer.ErrNoSpace) {
		t.Errorf("error %q is not transfer.ErrNoSpace", err)
	}
	if !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("error %q does not say the disk is full", err)
	}
	if !strings.Contains(err.Error(), step) {
		t.Errorf("error %q does not name the step that ran out of space (%q)", err, step)
	}
	if !errors.Is(err, agent.ErrNothingCommitted) {
		t.Errorf("error %q does not say nothing was committed", err)
	}
}

// dfCheckPoint fails t unless the namespace's restore point is still want,
// byte for byte.
func dfCheckPoint(t *testing.T, ns string, want dfPoint) {
	t.Helper()
	got := dfHead(t, ns)
	if got.seq != want.seq || !bytes.Equal(got.manifest, want.manifest) {
		t.Errorf("restore point is now %d (%d bytes), want %d (%d bytes) unchanged", got.seq, len(got.manifest), want.seq, len(want.manifest))
	}
}

// dfCheckVersions fails t unless every entry of the live tree at ns is
// some version's entry at that path: whole files from an earlier run or
// the new one, never a partial file.
func dfCheckVersions(t *testing.T, ns string, versions ...map[string]treeEntry) {
	t.Helper()
	for p, e := range listTree(t, ns) {
		ok := false
		for _, v := range versions {
			if w, in := v[p]; in && w.kind == e.kind && w.link == e.link && bytes.Equal(w.data, e.data) {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("%s (%d bytes) is in the live tree but is no version of the source's", p, len(e.data))
		}
	}
}

// dfDurable returns how much of p's staging the namespace's journal
// vouches for, reading the journal without changing it.
func dfDurable(t *testing.T, ns, p string) int64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ns, transfer.StateDir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []resume.Record
	for len(data) > 0 {
		r, n, err := resume.Decode(data)
		if err != nil {
			break // a torn tail, which recovery cuts
		}
		recs = append(recs, r)
		data = data[n:]
	}
	return resume.Replay(recs).Staged[p].Offset
}

// dfLocal is localConnect that keeps the receiver's own error of each
// session.
type dfLocal struct {
	dir  string
	errs []error
}

func (l *dfLocal) connect(ctx context.Context, _ agent.Hint) (*agent.Conn, error) {
	c, err := receiver.Local(ctx, l.dir, receiver.Options{Group: dfGroup})
	if err != nil {
		return nil, err
	}
	return &agent.Conn{Stream: c, WireBytes: c.Bytes, Close: func(error) { l.errs = append(l.errs, c.Close()) }}, nil
}

// dfTarget returns the receiver of a test on the tmpfs mnt: a local
// destination (via "local") or a hub namespace (via "hub"), with a Connect
// to it and, for a local destination, the receiver's own error of each
// session so far.
func dfTarget(t *testing.T, mnt, via string) (connect agent.Connect, ns string, rcvErrs func() []error) {
	t.Helper()
	if via == "local" {
		l := &dfLocal{dir: filepath.Join(mnt, "dst")}
		return l.connect, l.dir, func() []error { return l.errs }
	}
	connect, ns, stop := dfHub(t, filepath.Join(mnt, "hub"), mustIdentity(t))
	t.Cleanup(stop)
	return connect, ns, nil
}

// dfCheckReceiverFull fails t unless the receiver's last session ended
// with an error that says the disk is full, in step.
func dfCheckReceiverFull(t *testing.T, errs []error, step string) {
	t.Helper()
	if len(errs) == 0 {
		t.Fatal("no session ended")
	}
	err := errs[len(errs)-1]
	t.Logf("receiver's error: %v", err)
	if !errors.Is(err, transfer.ErrNoSpace) || !strings.Contains(fmt.Sprint(err), "no space left on device") || !strings.Contains(fmt.Sprint(err), step) {
		t.Errorf("the receiver's session ended with %v; want transfer.ErrNoSpace saying %q and no space left on device", err, step)
	}
}

// dfHub starts a hub whose root is root, admitting dev as "edge", and
// returns a Connect for dev, the namespace and a stop function that waits
// for the hub to end.
func dfHub(t *testing.T, root string, dev *identity.Identity) (connect agent.Connect, ns string, stop func()) {
	t.Helper()
	h, stop := serveHub(t, root, map[identity.ID]string{dev.ID: "edge"}, func(rh *receiver.Hub) { rh.Group = dfGroup })
	return agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0), filepath.Join(root, "edge"), stop
}

// TestDiskFullStaging: the disk fills while a file larger than the free
// space is staged. The file that was placed before stays, the restore
// point stays, the big file is nowhere in the live tree; after the file
// system grows, the next run sends only the part of the big file the
// journal did not vouch for. Through a local destination and through a
// hub that keeps running meanwhile.
func TestDiskFullStaging(t *testing.T) {
	for _, via := range []string{"local", "hub"} {
		t.Run(via, func(t *testing.T) {
			mnt := dfMount(t, 4<<20)
			connect, ns, rcvErrs := dfTarget(t, mnt, via)
			src := t.TempDir()
			build(t, src, []node{
				{path: "state/alarm.json", data: `{"alarm":"off"}`},
				{path: "config/site.conf", data: "site = north\n"},
				{path: "logs/a.txt", size: 40 << 10},
			})
			dfSendOK(t, src, connect)
			point := dfHead(t, ns)
			v1 := listTree(t, src)

			const bigSize = 6 << 20 // above the whole tmpfs
			build(t, src, []node{
				{path: "state/alarm.json", data: `{"alarm":"on","since":"now"}`},
				{path: "media/big.bin", size: bigSize},
			})
			v2 := listTree(t, src)
			rep, err := dfSend(t, src, connect)
			if via == "local" {
				dfCheckReceiverFull(t, rcvErrs(), "staging")
			}
			dfCheckFull(t, rep, err, "staging")
			dfCheckPoint(t, ns, point)
			dfCheckVersions(t, ns, v1, v2)
			if _, err := os.Lstat(filepath.Join(ns, "media/big.bin")); err == nil {
				t.Errorf("media/big.bin is at its final path after its staging ran out of space")
			}
			durable := dfDurable(t, ns, "media/big.bin")
			t.Logf("full run: %d payload bytes sent; journal vouches for %d of %d bytes of media/big.bin; %d pages free",
				rep.PayloadBytes, durable, bigSize, dfFree(t, mnt))
			if durable == 0 {
				t.Errorf("nothing of media/big.bin was journaled before the disk filled")
			}

			dfRemount(t, mnt, 16<<20)
			rep = dfSendOK(t, src, connect)
			sameTree(t, src, ns)
			if rest := int64(bigSize) - durable; rep.PayloadBytes > rest {
				t.Errorf("after space was freed the run sent %d bytes; only %d were not durable", rep.PayloadBytes, rest)
			}
			t.Logf("resumed run: %d payload bytes", rep.PayloadBytes)
			if m := dfHead(t, ns); m.seq <= point.seq || !m.m.Complete() {
				t.Errorf("restore point after the resumed run: %d %s, want a complete one after %d", m.seq, m.m.Kind, point.seq)
			}
		})
	}
}

// TestDiskFullRetry: a sender that retries keeps getting "no space" from a
// receiver whose disk stays full. Every attempt puts a few chunks on the
// link before the error comes back, but nothing becomes durable: that is
// no progress, so the back-off must grow and the run must end when its
// retry time is up, with the error that says why.
func TestDiskFullRetry(t *testing.T) {
	mnt := dfMount(t, 1<<20)
	connect, _, _ := dfTarget(t, mnt, "local")
	src := t.TempDir()
	build(t, src, []node{{path: "big.bin", size: 2 << 20}})
	retry := agent.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond, For: 2 * time.Second}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	opt := agent.Options{Source: src, ChunkSize: dfChunk, Retry: retry}
	plan, err := agent.Scan(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, err := agent.Send(ctx, start, plan, opt, connect)
	elapsed := time.Since(start)
	t.Logf("%d attempts in %v, %d payload bytes for a %d-byte file; error: %v", rep.Attempts, elapsed.Round(time.Millisecond), rep.PayloadBytes, 2<<20, err)
	if ctx.Err() != nil {
		t.Errorf("the run was still retrying after %v; --retry-for was %v", elapsed.Round(time.Millisecond), retry.For)
	}
	if !errors.Is(err, transfer.ErrNoSpace) {
		t.Errorf("the run ended with %v, want transfer.ErrNoSpace", err)
	}
	// Waits of 10-20, 20-40, 40-80, 80-160 ms, then 100-200 ms: about
	// 15 attempts fit in 2 s.
	if rep.Attempts > 25 {
		t.Errorf("%d attempts in %v against a full disk: the back-off did not grow", rep.Attempts, elapsed.Round(time.Millisecond))
	}
}

// dfManyEntries is a tree whose manifest is large and whose data takes no
// space on tmpfs: empty files, which tmpfs charges no page for. With dirs
// they are spread over directories, which the sender offers last, in a
// class of their own: the end of the files' class commits a checkpoint
// manifest before the final one. Without, the final commit is the first.
func dfManyEntries(n int, dirs bool) []node {
	var ns []node
	for i := range n {
		p := fmt.Sprintf("entry-with-a-longish-name-%04d.txt", i)
		if dirs {
			p = fmt.Sprintf("d%02d/%s", i%40, p)
		}
		ns = append(ns, node{path: p})
	}
	return ns
}

// dfJournalGrowth returns the pages the namespace's journal grows by when
// recs are appended to it.
func dfJournalGrowth(t *testing.T, ns string, recs ...resume.Record) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(ns, transfer.StateDir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	size := fi.Size()
	for _, r := range recs {
		r.Time = time.Now().UnixNano()
		b, err := resume.Encode(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		size += int64(len(b))
	}
	return (size+dfPage-1)/dfPage - (fi.Size()+dfPage-1)/dfPage
}

// dfRehearse copies the namespace ns to a scratch directory, syncs src
// into the copy and returns the size of the first manifest that sync
// commits after seq: the size, give or take the digits of its time, of
// the manifest the real run will write.
func dfRehearse(t *testing.T, ns, src string, seq uint64) int64 {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rehearsal")
	if out, err := exec.Command("cp", "-a", ns, dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the namespace: %v: %s", err, out)
	}
	dfSendOK(t, src, localConnect(dir, nil))
	fi, err := os.Stat(filepath.Join(dir, transfer.StateDir, "manifests", fmt.Sprintf("%020d.json", seq+1)))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestDiskFullCommit: the new data fits, the commit that would make it a
// restore point does not: either its manifest does not fit, or the
// manifest just fits and HEAD does not. Each against the checkpoint a
// class's end commits or the final commit, through a local destination
// or a hub. The placed file is whole at its final path and HEAD still
// names the earlier restore point (a manifest HEAD never named is no
// restore point); once the ballast is gone the next run sends no data at
// all, since the file is durable and journaled as placed, and commits.
func TestDiskFullCommit(t *testing.T) {
	tests := []struct {
		name string
		via  string
		dirs bool   // a checkpoint commit comes first
		full string // "manifest" or "HEAD": what does not fit
		step string // in the error
	}{
		{"checkpoint manifest", "local", true, "manifest", "class 1 done: commit"},
		{"final manifest", "local", false, "manifest", "commit: commit"},
		{"final HEAD", "local", false, "HEAD", "commit: commit"},
		{"hub final manifest", "hub", false, "manifest", "commit: commit"},
		{"hub final HEAD", "hub", false, "HEAD", "commit: commit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const entries = 1500
			mnt := dfMount(t, 4<<20)
			connect, ns, rcvErrs := dfTarget(t, mnt, tt.via)
			src := t.TempDir()
			build(t, src, dfManyEntries(entries, tt.dirs))
			dfSendOK(t, src, connect)
			point := dfHead(t, ns)
			v1 := listTree(t, src)

			// New data of 16 chunks: 64 pages, and one for its sums
			// while it is staged (freed when it is placed).
			const name = "data.bin"
			const newSize = 16 * dfChunk
			build(t, src, []node{{path: name, size: newSize}})
			v2 := listTree(t, src)
			hash := scan.Sum(blake3Sum(randomBytes(name, 0, newSize)))
			var recs []resume.Record
			for k := int64(1); k < newSize/dfChunk; k++ {
				recs = append(recs, resume.Record{Kind: resume.KindChunk, Path: name, FileHash: hash, Offset: k * dfChunk})
			}
			recs = append(recs, resume.Record{Kind: resume.KindPlaced, Path: name, FileHash: hash})
			grow := dfJournalGrowth(t, ns, recs...)
			manifest := dfRehearse(t, ns, src, point.seq)
			mpages := (manifest + dfPage - 1) / dfPage
			if lo, hi := (manifest-10+dfPage-1)/dfPage, (manifest+10+dfPage-1)/dfPage; lo != hi {
				t.Fatalf("arrangement: a manifest of %d bytes, give or take 10, may take %d or %d pages", manifest, lo, hi)
			}
			var room int64
			switch tt.full {
			case "manifest":
				// Room for the data, its sums, the journal and a few
				// pages more; the manifest needs far more.
				const slack = 6
				if mpages < 4*slack {
					t.Fatalf("arrangement: the manifest takes %d pages, too few to tell from a slack of %d", mpages, slack)
				}
				room = newSize/dfPage + 1 + grow + slack
			case "HEAD":
				// Room for the data, the journal and the manifest
				// exactly: HEAD's page is the one that is missing.
				room = newSize/dfPage + grow + mpages
			}
			free := dfFree(t, mnt)
			dfBallast(t, filepath.Join(mnt, "ballast"), free-room)
			t.Logf("next manifest about %d bytes (%d pages), journal grows %d pages; %d pages free, %d left by the ballast",
				manifest, mpages, grow, free, dfFree(t, mnt))

			rep, err := dfSend(t, src, connect)
			if tt.via == "local" {
				dfCheckReceiverFull(t, rcvErrs(), tt.step)
			}
			dfCheckFull(t, rep, err, tt.step)
			if err != nil && !strings.Contains(err.Error(), tt.full) {
				t.Errorf("error %q does not say the %s did not fit", err, tt.full)
			}
			dfCheckPoint(t, ns, point)
			dfCheckVersions(t, ns, v1, v2)
			pts, err := receiver.Points(ns)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pts {
				if p.Seq > point.seq && p.Kind != "class-done" {
					t.Errorf("after the failed commit, restore point %d (%s) is listed; HEAD is %d", p.Seq, p.Kind, point.seq)
				}
			}
			t.Logf("full run: %d payload bytes sent, %d pages free", rep.PayloadBytes, dfFree(t, mnt))

			if err := os.Remove(filepath.Join(mnt, "ballast")); err != nil {
				t.Fatal(err)
			}
			rep2 := dfSendOK(t, src, connect)
			sameTree(t, src, ns)
			if rep2.PayloadBytes != 0 {
				t.Errorf("after the ballast was removed the run sent %d bytes; %s was durable and placed already", rep2.PayloadBytes, name)
			}
			if total := rep.PayloadBytes + rep2.PayloadBytes; total != newSize {
				t.Errorf("sent %d bytes over both runs for %d new bytes", total, newSize)
			}
			if m := dfHead(t, ns); m.seq <= point.seq || !m.m.Complete() || m.m.Files != entries+1 {
				t.Errorf("restore point after the run: %d %s with %d files, want a complete one with %d after %d", m.seq, m.m.Kind, m.m.Files, entries+1, point.seq)
			}
		})
	}
}

// TestDiskFullJournalHub: on a hub that keeps running, the disk fills at
// the moment the journal needs a new page for a chunk record: the staged
// data of the chunk is durable, its record is not (and may be torn). A
// failed write sticks to a resume.Journal until it is reopened, and a hub
// keeps each namespace's store, journal included, open across sessions;
// once space is freed, the next run on the same hub must still complete,
// resuming from the last journaled chunk.
func TestDiskFullJournalHub(t *testing.T) {
	mnt := dfMount(t, 4<<20)
	dev := mustIdentity(t)
	connect, ns, stop := dfHub(t, filepath.Join(mnt, "hub"), dev)
	defer func() { stop() }()
	src := t.TempDir()
	build(t, src, []node{
		{path: "state/alarm.json", data: `{"alarm":"off"}`},
		{path: "config/site.conf", data: "site = north\n"},
	})
	dfSendOK(t, src, connect)
	point := dfHead(t, ns)
	v1 := listTree(t, src)

	// Find the chunk k whose journal record is the first to need a new
	// page, and leave exactly the space for k chunks of staged data and
	// the page of their sums: chunk k is written and synced, then its
	// record does not fit.
	const name = "media/big.bin"
	const bigSize = 128 * dfChunk
	build(t, src, []node{{path: name, size: bigSize}})
	v2 := listTree(t, src)
	hash := scan.Sum(blake3Sum(randomBytes(name, 0, bigSize)))
	fi, err := os.Stat(filepath.Join(ns, transfer.StateDir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	size := fi.Size()
	pages := (size + dfPage - 1) / dfPage
	k := int64(0)
	for size <= pages*dfPage {
		k++
		rec, err := resume.Encode(nil, resume.Record{Kind: resume.KindChunk, Path: name, FileHash: hash, Offset: k * dfChunk, Time: time.Now().UnixNano()})
		if err != nil {
			t.Fatal(err)
		}
		size += int64(len(rec))
	}
	if k*(8+32) > dfPage || k >= bigSize/dfChunk {
		t.Fatalf("arrangement: chunk %d is the first to need a journal page; its sums would need a second page or the file has fewer chunks", k)
	}
	need := k*dfChunk/dfPage + 1
	free := dfFree(t, mnt)
	dfBallast(t, filepath.Join(mnt, "ballast"), free-need)
	t.Logf("journal %d bytes after the first run; chunk %d needs a new journal page; %d pages left free", fi.Size(), k, dfFree(t, mnt))

	rep, err := dfSend(t, src, connect)
	dfCheckFull(t, rep, err, "journal")
	dfCheckPoint(t, ns, point)
	dfCheckVersions(t, ns, v1, v2)
	if _, err := os.Lstat(filepath.Join(ns, name)); err == nil {
		t.Errorf("%s is at its final path after the journal ran out of space", name)
	}
	durable := dfDurable(t, ns, name)
	if durable != (k-1)*dfChunk {
		t.Fatalf("arrangement: the journal vouches for %d bytes of %s, want %d (%d chunks)", durable, name, (k-1)*dfChunk, k-1)
	}

	if err := os.Remove(filepath.Join(mnt, "ballast")); err != nil {
		t.Fatal(err)
	}
	rep, err = dfSend(t, src, connect)
	if err != nil {
		// Tell a namespace that stays broken from one that does not
		// recover at all: does a restarted hub complete the run?
		stop()
		var restarted agent.Connect
		restarted, _, stop = dfHub(t, filepath.Join(mnt, "hub"), dev)
		_, rerr := dfSend(t, src, restarted)
		t.Fatalf("after space was freed, the same hub still fails the run: %v\n(the same run on a restarted hub: error %v)", err, rerr)
	}
	sameTree(t, src, ns)
	if rest := bigSize - durable; rep.PayloadBytes > rest {
		t.Errorf("after space was freed the run sent %d bytes; only %d were not durable", rep.PayloadBytes, rest)
	}
	if m := dfHead(t, ns); m.seq <= point.seq || !m.m.Complete() {
		t.Errorf("restore point after the run: %d %s, want a complete one after %d", m.seq, m.m.Kind, point.seq)
	}
}
