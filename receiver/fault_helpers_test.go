package receiver

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferrysync/ferry/prioritize"
	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// Helpers for the fault tests ("[hostile] an I/O error at each durability
// step"): an injected fault, source trees held in memory, and syncs of
// them through a real transfer.Sender and transfer.Receive.

// errInjected is the cause of every fault the tests inject.
var errInjected = errors.New("injected I/O error")

// ftHit matches the nth time op is done on a name that match accepts.
type ftHit struct {
	op    faultOp
	match func(name string) bool
	nth   int
}

// ftFault fails the step that at matches; if after is set, at counts only
// the steps after the one after matches.
type ftFault struct {
	at    ftHit
	after *ftHit

	mu      sync.Mutex
	armHits int
	hits    int
	fired   []string // names it failed
}

func (f *ftFault) hit(op faultOp, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a := f.after; a != nil && f.armHits < a.nth {
		if op == a.op && a.match(name) {
			f.armHits++
		}
		return nil
	}
	if op != f.at.op || !f.at.match(name) {
		return nil
	}
	f.hits++
	if f.hits != f.at.nth {
		return nil
	}
	f.fired = append(f.fired, name)
	return errInjected
}

// Names a fault can match, by where in the namespace they are.
func ftManifest(name string) bool { return strings.HasPrefix(name, manifestDir) }
func ftHEAD(name string) bool     { return strings.HasPrefix(name, headFile) }
func ftJournal(name string) bool  { return name == journalName }
func ftTrash(name string) bool    { return strings.HasPrefix(name, trashDir) }
func ftIs(want string) func(string) bool {
	return func(name string) bool { return name == want }
}

// ftStagingOf and ftSumsOf match the staging files of the live path p.
func ftStagingOf(p string) func(string) bool { return ftIs(stageName(p)) }
func ftSumsOf(p string) func(string) bool    { return ftIs(stageName(p) + sumsSuffix) }

// ftNode is an entry of a source tree: a file (data), a symlink (link)
// or, with dir set, a directory.
type ftNode struct {
	data  []byte
	link  string
	dir   bool
	mtime time.Time
}

type ftTree map[string]ftNode

var (
	ftTime1 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ftTime2 = time.Date(2024, 5, 2, 12, 0, 0, 0, time.UTC)
)

// ftV1 and ftV2 are the two versions of the source: v2 changes, adds and
// deletes files, turns a file into a directory, adds an empty file and a
// link, and changes the middle of a file large enough to go as a delta.
func ftV1() ftTree {
	return ftTree{
		"state/alarm.json":  {data: []byte(`{"alarm":"off"}`), mtime: ftTime1},
		"state/device.json": {data: recData("device", 1, 2*recChunk+3), mtime: ftTime1},
		"config/site.conf":  {data: []byte("site = north\n"), mtime: ftTime1},
		"logs/today.log":    {data: recData("today", 1, 3*recChunk+1), mtime: ftTime1},
		"media/video.bin":   {data: recData("video", 1, 20*recChunk), mtime: ftTime1},
		"old/gone.txt":      {data: []byte("deleted in v2\n"), mtime: ftTime1},
		"empty.txt":         {data: []byte{}, mtime: ftTime1},
		"site.link":         {link: "config/site.conf", mtime: ftTime1},
		"was-file":          {data: []byte("a file in v1, a directory in v2\n"), mtime: ftTime1},
	}
}

func ftV2() ftTree {
	t := ftV1()
	delete(t, "old/gone.txt")
	delete(t, "was-file")
	t["state/alarm.json"] = ftNode{data: []byte(`{"alarm":"on","since":"now"}`), mtime: ftTime2}
	t["state/new.json"] = ftNode{data: recData("new", 2, 2*recChunk+7), mtime: ftTime2}
	t["logs/today.log"] = ftNode{data: recData("today", 2, 5*recChunk+9), mtime: ftTime2}
	video := bytes.Clone(t["media/video.bin"].data)
	copy(video[9*recChunk:], recData("video", 2, 2*recChunk))
	t["media/video.bin"] = ftNode{data: video, mtime: ftTime2}
	t["logs/empty.log"] = ftNode{data: []byte{}, mtime: ftTime2}
	t["today.link"] = ftNode{link: "logs/today.log", mtime: ftTime2}
	t["was-file/inner.txt"] = ftNode{data: []byte("inside\n"), mtime: ftTime2}
	return t
}

// withDirs returns t with an entry for every directory that holds one.
func (t ftTree) withDirs() ftTree {
	out := make(ftTree, len(t))
	for p, n := range t {
		out[p] = n
		for _, d := range parentDirs(p) {
			out[d] = ftNode{dir: true, mtime: ftTime1}
		}
	}
	return out
}

func (n ftNode) hash() scan.Sum {
	if n.link != "" {
		return recSum([]byte(n.link))
	}
	return recSum(n.data)
}

// ftSource serves a tree from memory.
type ftSource ftTree

var _ transfer.Source = ftSource(nil)

func (s ftSource) Hash(ctx context.Context, e scan.Entry) (scan.Sum, error) {
	return s[e.Path].hash(), nil
}

func (s ftSource) Open(e scan.Entry) (transfer.File, error) {
	return ftFile{bytes.NewReader(s[e.Path].data)}, nil
}

type ftFile struct{ *bytes.Reader }

func (ftFile) Close() error { return nil }

// ftPlan orders t as the agent would: state/ critical, media/ bulk.
func ftPlan(t *testing.T, tree ftTree) prioritize.Plan {
	t.Helper()
	rules, err := prioritize.ParseRules(strings.NewReader("critical state/**\nbulk media/**\n"), "rules")
	if err != nil {
		t.Fatal(err)
	}
	var entries []scan.Entry
	for p, n := range tree.withDirs() {
		e := scan.Entry{Path: p, Kind: scan.File, Size: int64(len(n.data)), Mode: 0o644, ModTime: n.mtime}
		switch {
		case n.dir:
			e.Kind, e.Size, e.Mode = scan.Dir, 0, 0o755
		case n.link != "":
			e.Kind, e.Size, e.Mode, e.Target = scan.Symlink, 0, 0o777, n.link
		}
		entries = append(entries, e)
	}
	plan, err := prioritize.Order(entries, rules)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// ftSink is a Session that keeps what the tests measure: what it was
// sent and the errors of files that failed alone.
type ftSink struct {
	*Session
	writes   []ftWrite
	fileErrs []error
}

// ftWrite is a range of a file's content that the receiver was sent.
type ftWrite struct {
	path     string
	hash     scan.Sum
	from, to int64
}

func (s *ftSink) Write(ctx context.Context, o *transfer.Offer, offset int64, data []byte, sum scan.Sum) error {
	s.writes = append(s.writes, ftWrite{o.Path, o.Hash, offset, offset + int64(len(data))})
	return s.Session.Write(ctx, o, offset, data, sum)
}

func (s *ftSink) Flush(ctx context.Context) (map[uint64]error, error) {
	failed, err := s.Session.Flush(ctx)
	for _, ferr := range failed {
		s.fileErrs = append(s.fileErrs, ferr)
	}
	return failed, err
}

// ftResult is one sync as both ends saw it.
type ftResult struct {
	began    bool // the session began: the sender ran
	res      transfer.Result
	sendErr  error     // the sender's
	recvErr  error     // the receiver's: Open, Begin, Receive and Close
	fileErrs []error   // the receiver's, of files that failed alone
	writes   []ftWrite // what the receiver was sent
}

// resent returns how many bytes r was sent again that earlier was sent
// already: the same content at the same offset.
func (r ftResult) resent(earlier ftResult) int64 {
	var n int64
	for _, w := range r.writes {
		for _, e := range earlier.writes {
			if e.path == w.path && e.hash == w.hash {
				n += max(0, min(w.to, e.to)-max(w.from, e.from))
			}
		}
	}
	return n
}

// err returns the receiver's error that carries the injected fault.
func (r ftResult) err() error {
	for _, err := range append([]error{r.recvErr}, r.fileErrs...) {
		if errors.Is(err, errInjected) {
			return err
		}
	}
	return nil
}

// senderSaw returns every error the sender reported, as text.
func (r ftResult) senderSaw() string {
	var b strings.Builder
	if r.sendErr != nil {
		b.WriteString(r.sendErr.Error())
	}
	for _, f := range r.res.Failed {
		b.WriteString("\n" + f.Error())
	}
	return b.String()
}

// ftTarget is a namespace as a hub keeps it (one Store open across
// sessions) or as a local destination does (opened for each sync).
type ftTarget struct {
	dir   string
	hub   bool
	st    *Store
	fault atomic.Pointer[ftFault] // injected into every store opened
}

// inject makes f the fault of tg's namespace; nil clears it.
func (tg *ftTarget) inject(f *ftFault) { tg.fault.Store(f) }

func (tg *ftTarget) hit(op faultOp, name string) error {
	if f := tg.fault.Load(); f != nil {
		return f.hit(op, name)
	}
	return nil
}

// ftNewTarget returns an empty namespace, or a copy of the namespace from
// if it is not "".
func ftNewTarget(t *testing.T, hub bool, from string) *ftTarget {
	t.Helper()
	tg := &ftTarget{dir: filepath.Join(t.TempDir(), "ns"), hub: hub}
	if from != "" {
		ftCopy(t, from, tg.dir)
	}
	t.Cleanup(func() {
		if tg.st != nil {
			tg.st.Close()
		}
	})
	return tg
}

func (tg *ftTarget) open() (*Store, error) {
	if tg.st != nil {
		return tg.st, nil
	}
	st, err := Open(tg.dir, Options{Group: ftGroup, fault: tg.hit})
	if err != nil {
		return nil, err
	}
	tg.st = st
	return st, nil
}

// ftGroup journals every chunk, as on a thin link: the resume bound is
// then one chunk per file in flight.
var ftGroup = resume.Grouper{MaxChunks: 1}

func (tg *ftTarget) done() {
	if !tg.hub && tg.st != nil {
		tg.st.Close()
		tg.st = nil
	}
}

// ftSync sends tree to tg once.
func ftSync(t *testing.T, tg *ftTarget, tree ftTree) ftResult {
	t.Helper()
	defer tg.done()
	var r ftResult
	st, err := tg.open()
	if err != nil {
		r.recvErr = err
		return r
	}
	// Generous: on a loaded machine fsyncs can stall for seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ss, err := st.Begin(ctx)
	if err != nil {
		r.recvErr = err
		return r
	}
	r.began = true
	sink := &ftSink{Session: ss}
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() {
		err := transfer.Receive(ctx, b, sink)
		b.Close()
		done <- err
	}()
	s := transfer.NewSender(transfer.SenderConfig{ChunkSize: recChunk, Compress: transfer.CompressNever})
	r.res, r.sendErr = s.Send(ctx, a, ftPlan(t, tree), ftSource(tree))
	a.Close()
	r.recvErr = errors.Join(<-done, ss.Close())
	r.fileErrs, r.writes = sink.fileErrs, sink.writes
	return r
}

// ftSyncOK sends tree to tg once and fails t unless it committed a
// complete restore point.
func ftSyncOK(t *testing.T, tg *ftTarget, tree ftTree) ftResult {
	t.Helper()
	r := ftSync(t, tg, tree)
	if r.recvErr != nil || r.sendErr != nil || len(r.res.Failed) > 0 || !r.res.Committed.Complete {
		t.Fatalf("sync: receiver %v, sender %v, failed %v, committed %+v; want a complete restore point",
			r.recvErr, r.sendErr, r.res.Failed, r.res.Committed)
	}
	return r
}

// ftPoint is a restore point as it is on disk.
type ftPoint struct {
	seq      uint64
	manifest []byte
	m        *Manifest
}

// ftHead reads HEAD and the manifest it names, which must be readable.
func ftHead(t *testing.T, dir string) ftPoint {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	seq, err := readHead(root)
	if err != nil || seq == 0 {
		t.Fatalf("HEAD: %d, %v; want a restore point", seq, err)
	}
	m, err := ReadManifest(root, seq)
	if err != nil {
		t.Fatalf("the restore point HEAD names: %v", err)
	}
	data, err := root.ReadFile(manifestName(seq))
	if err != nil {
		t.Fatal(err)
	}
	return ftPoint{seq: seq, manifest: data, m: m}
}

// ftCheckPoint fails t unless HEAD still names before, byte for byte, or
// a later restore point, and the live tree holds each entry the restore
// point HEAD names as it lists it or as newer has it (placed over it), or
// else the trash holds it (displaced by what newer has there).
func ftCheckPoint(t *testing.T, dir string, before ftPoint, newer ftTree) ftPoint {
	t.Helper()
	p := ftHead(t, dir)
	if p.seq < before.seq || (p.seq == before.seq && !bytes.Equal(p.manifest, before.manifest)) {
		t.Errorf("restore point is now %d (%d bytes), want %d (%d bytes) or a later one", p.seq, len(p.manifest), before.seq, len(before.manifest))
	}
	live, trash := ftReadTree(t, dir), ftTrashed(t, dir)
	newer = newer.withDirs()
	for _, e := range p.m.Entries {
		n, ok := live[e.Path]
		switch {
		case ok && ftListed(e, n):
		case ok && ftSame(n, newer[e.Path]):
		case !ok && slices.ContainsFunc(trash[e.Path], func(n ftNode) bool { return ftListed(e, n) }):
		default:
			t.Errorf("restore point %d lists %s %s; the live tree holds neither it nor the new version, nor does the trash", p.seq, e.Kind, e.Path)
		}
	}
	return p
}

// ftListed reports whether n is the entry e of a manifest.
func ftListed(e Entry, n ftNode) bool {
	switch e.Kind {
	case "dir":
		return n.dir
	case "symlink":
		return n.link == e.Target
	}
	return !n.dir && n.link == "" && recSum(n.data) == *e.Hash
}

// ftTrashed returns what the trash of the namespace at dir holds, by the
// live path it was moved from.
func ftTrashed(t *testing.T, dir string) map[string][]ftNode {
	t.Helper()
	trash := make(map[string][]ftNode)
	des, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(trashDir)))
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		for p, n := range ftReadTree(t, filepath.Join(dir, filepath.FromSlash(trashDir), de.Name())) {
			trash[p] = append(trash[p], n)
		}
	}
	return trash
}

// ftReadTree reads the tree at dir: for a namespace, the live tree.
func ftReadTree(t *testing.T, dir string) ftTree {
	t.Helper()
	tree := make(ftTree)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
			return nil
		case rel == transfer.StateDir:
			return filepath.SkipDir
		case d.IsDir():
			tree[rel] = ftNode{dir: true}
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			tree[rel] = ftNode{link: target}
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			tree[rel] = ftNode{data: b}
		default:
			tree[rel] = ftNode{link: "?" + d.Type().String()}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func ftSame(a, b ftNode) bool {
	return a.dir == b.dir && a.link == b.link && bytes.Equal(a.data, b.data)
}

// ftCheckWhole fails t unless every entry of the live tree is that path's
// entry in one of versions: no partial file, nothing that is no version
// of the source.
func ftCheckWhole(t *testing.T, dir string, versions ...ftTree) {
	t.Helper()
	for i, v := range versions {
		versions[i] = v.withDirs()
	}
	for p, n := range ftReadTree(t, dir) {
		if !slices.ContainsFunc(versions, func(v ftTree) bool { w, ok := v[p]; return ok && ftSame(w, n) }) {
			t.Errorf("%s (%d bytes) is in the live tree but is no version of the source's", p, len(n.data))
		}
	}
}

// ftCheckTree fails t unless the live tree at dir is tree exactly.
func ftCheckTree(t *testing.T, dir string, tree ftTree) {
	t.Helper()
	live := ftReadTree(t, dir)
	want := tree.withDirs()
	for p, n := range want {
		if l, ok := live[p]; !ok || !ftSame(l, n) {
			t.Errorf("%s: not in the live tree as the source has it", p)
		}
	}
	for p := range live {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: in the live tree, not in the source", p)
		}
	}
}

// ftCheckComplete fails t unless p is a complete restore point of tree
// whose every file the live tree at dir holds as listed.
func ftCheckComplete(t *testing.T, dir string, p ftPoint, tree ftTree) {
	t.Helper()
	if !p.m.Complete() {
		t.Errorf("restore point %d is %s, want complete", p.seq, p.m.Kind)
	}
	want := tree.withDirs()
	for _, e := range p.m.Entries {
		n, ok := want[e.Path]
		if !ok {
			t.Errorf("restore point %d lists %s, which the source does not have", p.seq, e.Path)
			continue
		}
		if e.Kind == "file" && *e.Hash != n.hash() {
			t.Errorf("restore point %d lists %s with a hash that is not the source's", p.seq, e.Path)
		}
		delete(want, e.Path)
	}
	for q := range want {
		t.Errorf("restore point %d does not list %s", p.seq, q)
	}
}

// ftCheckConfined fails t unless the directory holding the namespace at
// dir holds nothing else.
func ftCheckConfined(t *testing.T, dir string) {
	t.Helper()
	des, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if de.Name() != path.Base(filepath.ToSlash(dir)) {
			t.Errorf("%s was written beside the namespace", de.Name())
		}
	}
}

// ftCopy copies the namespace at src, which no store has open, to dst:
// files with their modes and times, links, directories.
func ftCopy(t *testing.T, src, dst string) {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			dirs = append(dirs, rel)
			return os.Mkdir(to, fi.Mode().Perm())
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		}
		b, err := os.ReadFile(p)
		if err == nil {
			err = os.WriteFile(to, b, fi.Mode().Perm())
		}
		if err == nil {
			err = os.Chtimes(to, fi.ModTime(), fi.ModTime())
		}
		return err
	})
	for _, rel := range slices.Backward(dirs) {
		if err != nil {
			break
		}
		var fi os.FileInfo
		if fi, err = os.Stat(filepath.Join(src, rel)); err == nil {
			err = os.Chtimes(filepath.Join(dst, rel), fi.ModTime(), fi.ModTime())
		}
	}
	if err != nil {
		t.Fatalf("copy namespace: %v", err)
	}
}
