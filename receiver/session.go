package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// Session receives one sync into a Store. It implements transfer.Sink.
type Session struct {
	s     *Store
	start uint64           // the sequence of the first manifest it commits
	prev  map[string]Entry // entries of the last manifest at the start, by path
	// live holds, for each path offered, what the live tree holds there
	// now: the new entry once placed or found present, else the previous
	// manifest's entry (a failed file keeps its old version).
	live map[string]Entry
	dirs map[string]bool // verified real directories
	// offeredNow holds the paths offered in this session.
	offeredNow map[string]bool
	failed     int // entries that did not reach the live tree
	// matched marks the summary buckets found unchanged; their entries of
	// the last manifest go into the next one without being offered.
	matched []bool
	// placedRecs are placements not yet journaled (see notePlaced).
	placedRecs []resume.Record
	dirHandles map[string]*os.File // see syncDir
	batch      []finished          // verified files waiting for Flush
	quotaUsed  int64               // bytes the tree would hold, for Limits.Quota
	stage      *staged
	resumed    map[string]resumedPrefix // verified prefixes of offered files
	group      resume.Grouper
	placed     int // files placed in this session
	// When the last manifest was committed, and placed at that time.
	lastCP     time.Time
	placedAtCP int

	// names holds, when the file system folds case, the spellings of the
	// paths of this session (see checkName).
	names foldIndex
}

// resumedPrefix is a staged prefix checked at offer time, ready to continue.
type resumedPrefix struct {
	at int64
	h  *blake3.Hasher
}

var _ transfer.Sink = (*Session)(nil)
var _ transfer.ClassDoner = (*Session)(nil)

// Begin starts a session, waiting while another one holds the namespace.
func (s *Store) Begin(ctx context.Context) (*Session, error) {
	return s.begin(ctx, nil)
}

// Preempt starts a session, first cancelling one that holds the namespace:
// a sender that reconnects replaces its own stale session. cancel ends the
// new session in turn.
func (s *Store) Preempt(ctx context.Context, cancel context.CancelFunc) (*Session, error) {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	return s.begin(ctx, cancel)
}

func (s *Store) begin(ctx context.Context, cancel context.CancelFunc) (*Session, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("namespace %s: %w", s.dir, transfer.ErrBusy)
	}
	if s.jerr {
		// A write to the journal failed (a full disk, an I/O error): what
		// it holds is known only once it is read again.
		if s.j != nil {
			s.j.Close()
			s.j = nil
		}
		if err := s.recover(); err != nil {
			<-s.sem
			return nil, storageErr("reopen journal", err)
		}
		s.jerr = false
	}
	if err := s.rollForward(); err != nil {
		<-s.sem
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancel = cancel
	ss := &Session{
		s:          s,
		start:      s.head + 1,
		prev:       make(map[string]Entry),
		live:       make(map[string]Entry),
		dirs:       make(map[string]bool),
		offeredNow: make(map[string]bool),
		resumed:    make(map[string]resumedPrefix),
		group:      s.opt.Group,
		lastCP:     time.Now(),
	}
	if s.last != nil {
		ss.quotaUsed = s.last.Bytes
		for _, e := range s.last.Entries {
			ss.prev[e.Path] = e
		}
	}
	return ss, nil
}

// Close ends the session. What was staged and journaled stays for the next
// session to resume; the open journal group is flushed first.
func (ss *Session) Close() error {
	// Files that arrived whole are placed even if the session failed
	// after them; the sender finds them there next time.
	_, err := ss.Flush(context.Background())
	if ferr := ss.flush(); err == nil {
		err = ferr
	}
	if ss.stage != nil {
		ss.stage.close()
		ss.stage = nil
	}
	ss.closeDirs()
	ss.s.mu.Lock()
	ss.s.cancel = nil
	ss.s.mu.Unlock()
	<-ss.s.sem
	return err
}

// Head implements transfer.Sink.
func (ss *Session) Head() uint64 {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	return ss.s.head
}

// Offer implements transfer.Sink.
func (ss *Session) Offer(ctx context.Context, o *transfer.Offer) (transfer.Reply, error) {
	if err := ss.checkName(o); err != nil {
		return transfer.Reply{}, err
	}
	e := entryOf(o)
	if o.Kind != scan.Dir && ss.dirs[o.Path] {
		// The path was a directory for earlier entries of this session;
		// a file or link there now would reroute them.
		return transfer.Reply{}, fmt.Errorf("%s %q was a directory earlier in this session: %w", e.Kind, o.Path, transfer.ErrRefused)
	}
	if err := ss.checkLimits(o); err != nil {
		return transfer.Reply{}, err
	}
	ss.offeredNow[o.Path] = true
	if prev, ok := ss.prev[o.Path]; ok {
		ss.live[o.Path] = prev
	}
	skip := transfer.Reply{Action: transfer.Skip}
	if err := ss.parents(o.Path); err != nil {
		return skip, err
	}
	switch o.Kind {
	case scan.Dir:
		if err := ss.mkdir(o.Path); err != nil {
			return skip, err
		}
		ss.live[o.Path] = e
		return skip, nil
	case scan.Symlink:
		if cur, err := ss.s.root.Readlink(o.Path); err == nil && cur == o.Target {
			ss.live[o.Path] = e
			return skip, nil
		}
		tmp := stageName(o.Path)
		ss.s.root.Remove(tmp)
		if err := ss.s.symlink(o.Target, tmp); err != nil {
			return skip, storageErr("create symlink "+o.Path, err)
		}
		return skip, ss.place(tmp, o.Path, e)
	}
	if ok, err := ss.have(e); err != nil || ok {
		return skip, err
	}
	if o.Size == 0 {
		return skip, ss.placeEmpty(o, e)
	}
	at, err := ss.resumeOffset(o)
	if err != nil {
		return skip, err
	}
	if at == o.Size {
		// Every byte is staged and verified (a crash came between the last
		// chunk and the placement): place it now.
		r := ss.resumed[o.Path]
		delete(ss.resumed, o.Path)
		if placed, err := ss.placeStaged(o, e, r.h); placed || err != nil {
			return skip, err
		}
		at = 0 // staged content was not the offered one; dropped
	}
	if err := ss.checkFree(o, at); err != nil {
		return transfer.Reply{}, err
	}
	if at == 0 {
		if b := ss.basis(o); b != nil {
			return transfer.Reply{Action: transfer.Delta, Blocks: b}, nil
		}
	}
	return transfer.Reply{Action: transfer.Send, Offset: at}, nil
}

// checkLimits refuses an offer that would take the namespace past its
// limits. The quota counts what the tree would hold: the last manifest's
// files not offered yet plus every file offered.
func (ss *Session) checkLimits(o *transfer.Offer) error {
	lim := ss.s.opt.Limits
	if lim.MaxEntries > 0 && len(ss.offeredNow) >= lim.MaxEntries {
		return fmt.Errorf("more than %d entries in one session: %w", lim.MaxEntries, transfer.ErrRefused)
	}
	if o.Kind != scan.File {
		return nil
	}
	if lim.MaxFileSize > 0 && o.Size > lim.MaxFileSize {
		return fmt.Errorf("%s: %d bytes, above the largest file this hub accepts (%d): %w", o.Path, o.Size, lim.MaxFileSize, transfer.ErrRefused)
	}
	if lim.Quota > 0 {
		if prev, ok := ss.prev[o.Path]; ok && prev.Kind == "file" {
			ss.quotaUsed -= prev.Size
		}
		ss.quotaUsed += o.Size
		if ss.quotaUsed > lim.Quota {
			return fmt.Errorf("%s: the namespace would hold %d bytes, above its quota of %d: %w", o.Path, ss.quotaUsed, lim.Quota, transfer.ErrNoSpace)
		}
	}
	return nil
}

// checkFree refuses, for this entry alone, a file whose bytes from at on
// would take the disk below Limits.MinFree. It runs once the file is
// known to need data, so that unchanged files cost no statfs and a
// resumed one is charged only for what is missing; the previous version
// stays listed.
func (ss *Session) checkFree(o *transfer.Offer, at int64) error {
	min := ss.s.opt.Limits.MinFree
	if min <= 0 {
		return nil
	}
	need := o.Size - at
	free, ok := freeSpace(ss.s.dir)
	if !ok || free-need >= min {
		return nil
	}
	ss.failed++
	err := fmt.Errorf("%s: needs %d more bytes; the hub's disk has %d free and keeps %d: %w", o.Path, need, free, min, transfer.ErrNoSpace)
	ss.s.log.Warn("entry refused", "path", o.Path, "err", err)
	return &transfer.EntryError{Err: err}
}

// have reports whether the live tree already holds e, and applies e's
// mode and mtime if only those changed. Trusted: the last manifest or the
// journal says so and the file was not touched since. Checked: a file of
// the offered size and mtime whose content hashes to the offered hash (a
// placement the journal missed, or a tree seeded by hand).
func (ss *Session) have(e Entry) (bool, error) {
	fi, err := ss.s.root.Lstat(e.Path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != e.Size {
		return false, nil
	}
	mtime := fi.ModTime().UnixNano()
	prev, inManifest := ss.prev[e.Path]
	trusted := inManifest && prev.Kind == "file" && prev.Hash != nil && *prev.Hash == *e.Hash && prev.MTime == mtime
	if h, ok := ss.s.placed[e.Path]; ok && h == *e.Hash && mtime == e.MTime {
		trusted, prev = true, e
	}
	if !trusted {
		if mtime != e.MTime {
			return false, nil
		}
		sum, err := ss.hashLive(e.Path)
		if err != nil || sum != *e.Hash {
			return false, nil
		}
		prev = e
	}
	if prev.Mode != e.Mode || fi.Mode().Perm() != e.Mode {
		if err := ss.s.root.Chmod(e.Path, e.Mode); err != nil {
			return false, storageErr("chmod "+e.Path, err)
		}
	}
	if mtime != e.MTime {
		t := time.Unix(0, e.MTime)
		if err := ss.s.root.Chtimes(e.Path, t, t); err != nil {
			return false, storageErr("set mtime of "+e.Path, err)
		}
	}
	ss.live[e.Path] = e
	return true, nil
}

func (ss *Session) hashLive(p string) (scan.Sum, error) {
	f, err := ss.s.root.Open(p)
	if err != nil {
		return scan.Sum{}, err
	}
	defer f.Close()
	h := blake3.New()
	if _, err := io.Copy(h, f); err != nil {
		return scan.Sum{}, err
	}
	var sum scan.Sum
	h.Sum(sum[:0])
	return sum, nil
}

// resumeOffset answers an offer of a file that may be staged: the
// verified prefix if it is staged for the same content, else 0, dropping a
// staging of other content.
func (ss *Session) resumeOffset(o *transfer.Offer) (int64, error) {
	st, ok := ss.s.state.Staged[o.Path]
	if !ok {
		return 0, nil
	}
	if st.FileHash != o.Hash || st.Offset > o.Size {
		// The source changed since: start over.
		return 0, ss.drop(o.Path, st.FileHash)
	}
	at, h, err := verifyStaged(ss.s.root, o.Path, st.Offset)
	if err != nil || at == 0 {
		return 0, ss.drop(o.Path, st.FileHash)
	}
	if at < st.Offset {
		ss.s.log.Warn("staged file damaged, resuming from the last good chunk", "path", o.Path, "journaled", st.Offset, "good", at)
		// The journal only moves a file's offset forward: record the cut
		// as a drop and a fresh prefix, before the staging is cut.
		err := ss.journal(
			resume.Record{Kind: resume.KindDropped, Path: o.Path, FileHash: st.FileHash},
			resume.Record{Kind: resume.KindChunk, Path: o.Path, FileHash: st.FileHash, Offset: at})
		if err != nil {
			return 0, err
		}
	}
	ss.resumed[o.Path] = resumedPrefix{at: at, h: h}
	return at, nil
}

// drop discards the staging of p and journals it.
func (ss *Session) drop(p string, hash scan.Sum) error {
	name := stageName(p)
	ss.s.root.Remove(name)
	ss.s.root.Remove(name + sumsSuffix)
	return ss.journal(resume.Record{Kind: resume.KindDropped, Path: p, FileHash: hash})
}

// Write implements transfer.Sink.
func (ss *Session) Write(ctx context.Context, o *transfer.Offer, offset int64, data []byte, sum scan.Sum) error {
	if err := ss.ensureStage(o, offset); err != nil {
		return err
	}
	if err := ss.stage.write(data, sum); err != nil {
		return err
	}
	return ss.written(o)
}

// ensureStage opens the staging of o when its first bytes arrive at offset.
func (ss *Session) ensureStage(o *transfer.Offer, offset int64) error {
	if ss.stage != nil && ss.stage.path == o.Path {
		return nil
	}
	// Offers run ahead of the data: a file is staged when its first
	// bytes arrive, after the previous file was finished.
	if ss.stage != nil {
		return fmt.Errorf("write %s while %s is staged: %w", o.Path, ss.stage.path, transfer.ErrInternal)
	}
	r := ss.resumed[o.Path]
	delete(ss.resumed, o.Path)
	if offset != r.at {
		return fmt.Errorf("write %s at %d, staged up to %d: %w", o.Path, offset, r.at, transfer.ErrInternal)
	}
	st, err := openStaged(ss.s, o.Path, o.Hash, r.at, r.h)
	if err != nil {
		return err
	}
	ss.stage = st
	return nil
}

// written journals the verified bytes written to the stage so far.
func (ss *Session) written(o *transfer.Offer) error {
	if ss.stage.size == o.Size {
		// The last chunk: Finish makes the whole file durable next, so
		// journaling it first would only cost fsyncs (most small files
		// are one chunk).
		return nil
	}
	return ss.add(resume.Record{Kind: resume.KindChunk, Path: o.Path, FileHash: o.Hash, Offset: ss.stage.size})
}

// add adds a record to the open journal group, flushing it when it is over.
func (ss *Session) add(r resume.Record) error {
	if ss.group.Add(r) {
		return ss.flush()
	}
	return nil
}

// maxPendingPlaced bounds the placements held back from the journal.
const maxPendingPlaced = 256

// notePlaced records a placement. The file is already durable, so the
// record need not cost an fsync of its own: it rides with the next journal
// append. If a crash loses it, the next session finds the file by its size
// and mtime and re-hashes it locally instead of receiving it again.
func (ss *Session) notePlaced(r resume.Record) error {
	ss.placedRecs = append(ss.placedRecs, r)
	if len(ss.placedRecs) >= maxPendingPlaced {
		return ss.journal()
	}
	return nil
}

// flush makes the staged data durable, then journals the open group.
func (ss *Session) flush() error {
	if ss.group.Len() == 0 && len(ss.placedRecs) == 0 {
		return nil
	}
	if ss.stage != nil {
		if err := ss.stage.sync(); err != nil {
			return err
		}
	}
	return ss.journal(ss.group.Take()...)
}

// journal appends recs in order after what is held back: the placements
// not yet journaled and, unless recs are chunk records themselves, the
// open group's chunks (whose data it syncs first).
func (ss *Session) journal(recs ...resume.Record) error {
	all := ss.placedRecs
	ss.placedRecs = nil
	if ss.group.Len() > 0 && (len(recs) == 0 || recs[0].Kind != resume.KindChunk) {
		if ss.stage != nil {
			if err := ss.stage.sync(); err != nil {
				return err
			}
		}
		all = append(all, ss.group.Take()...)
	}
	all = append(all, recs...)
	if len(all) == 0 {
		return nil
	}
	return ss.s.journal(all...)
}

// Finish implements transfer.Sink: the file's bytes all arrived. It is
// checked against its hash and queued; Flush makes it durable and places
// it, with the other files of its batch.
func (ss *Session) Finish(ctx context.Context, o *transfer.Offer) error {
	st := ss.stage
	if st == nil || st.path != o.Path {
		return fmt.Errorf("finish %s: no staging file: %w", o.Path, transfer.ErrInternal)
	}
	ss.stage = nil
	var sum scan.Sum
	st.h.Sum(sum[:0])
	if sum != o.Hash {
		st.remove()
		if err := ss.journal(resume.Record{Kind: resume.KindDropped, Path: o.Path, FileHash: o.Hash}); err != nil {
			return err
		}
		ss.failed++
		return fmt.Errorf("%s: received content hashes to %v, offered %v: %w", o.Path, sum, o.Hash, transfer.ErrHashMismatch)
	}
	e := entryOf(o)
	err := st.f.Chmod(e.Mode)
	if err == nil {
		t := time.Unix(0, e.MTime)
		err = ss.s.root.Chtimes(st.name, t, t)
	}
	if err != nil {
		st.remove()
		ss.failed++
		return storageErr("set mode and mtime of "+o.Path, err)
	}
	// A crash before the flush costs this file's last group at most.
	ss.group.Take()
	ss.batch = append(ss.batch, finished{id: o.ID, st: st, e: e, hash: o.Hash})
	return nil
}

// placeStaged places a file whose bytes were all staged and verified in an
// earlier session, h being the hash over them.
func (ss *Session) placeStaged(o *transfer.Offer, e Entry, h *blake3.Hasher) (bool, error) {
	var sum scan.Sum
	h.Sum(sum[:0])
	if sum != o.Hash {
		return false, ss.drop(o.Path, o.Hash)
	}
	if err := ss.placeNow(o, e, os.O_RDWR); err != nil {
		return false, err
	}
	ss.s.root.Remove(stageName(o.Path) + sumsSuffix)
	return true, nil
}

// placeEmpty places an empty file at once (it has no data to wait for),
// without disturbing the file being staged.
func (ss *Session) placeEmpty(o *transfer.Offer, e Entry) error {
	if o.Hash != scan.Sum(blake3.Sum256(nil)) {
		ss.failed++
		return fmt.Errorf("%s: empty, but offered with the hash of content: %w", o.Path, transfer.ErrHashMismatch)
	}
	return ss.placeNow(o, e, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
}

// placeNow makes o's staging file (opened with flags) durable with e's
// mode and mtime and places it on its own, outside any batch.
func (ss *Session) placeNow(o *transfer.Offer, e Entry, flags int) error {
	name := stageName(o.Path)
	f, err := ss.s.openFile(name, flags, 0o600)
	if err != nil {
		return storageErr("open staged "+o.Path, err)
	}
	err = f.Chmod(e.Mode)
	if err == nil {
		t := time.Unix(0, e.MTime)
		err = ss.s.root.Chtimes(name, t, t)
	}
	if err == nil {
		err = ss.s.syncFile(f, name)
	}
	if cerr := f.Close(); err == nil {
		err = inNamespace("close", name, cerr)
	}
	if err != nil {
		err = storageErr("place "+o.Path, err)
	} else {
		err = ss.place(name, o.Path, e) // its errors name their step
	}
	if err != nil {
		if !ss.vouched(o.Path, o.Hash) {
			ss.s.root.Remove(name)
		}
		return err
	}
	ss.placed++
	return ss.notePlaced(resume.Record{Kind: resume.KindPlaced, Path: o.Path, FileHash: o.Hash})
}

// place renames a durable staged entry to its final path and syncs the
// directory. Whatever the live tree held there that the last manifest does
// not account for is moved to the trash first, never overwritten.
func (ss *Session) place(tmp, p string, e Entry) error {
	if err := ss.displace(p); err != nil {
		return err
	}
	if err := ss.s.rename(tmp, p); err != nil {
		return storageErr("place "+p, err)
	}
	if err := ss.syncDir(path.Dir(p)); err != nil {
		return storageErr("place "+p, err)
	}
	ss.live[p] = e
	ss.s.log.Debug("placed", "path", p, "size", e.Size)
	if ss.s.opt.Placed != nil {
		ss.s.opt.Placed(p)
	}
	return nil
}

// displace moves what is at p to the trash unless it is the version the
// last manifest recorded or the journal placed, which the new one replaces.
func (ss *Session) displace(p string) error {
	fi, err := ss.s.root.Lstat(p)
	if isNotExist(err) {
		return nil
	}
	if err != nil {
		return storageErr("stat "+p, err)
	}
	if _, ok := ss.s.placed[p]; ok && fi.Mode().IsRegular() {
		return nil
	}
	if prev, ok := ss.prev[p]; ok && !fi.IsDir() && prev.Kind == kindOf(fi) &&
		(prev.Kind != "file" || (fi.Size() == prev.Size && fi.ModTime().UnixNano() == prev.MTime)) {
		return nil
	}
	return ss.s.trash(p, ss.start)
}

// parents makes sure every ancestor of p is a real directory in the live
// tree, never a symlink: a path through a link is refused even when the
// link stays inside the namespace.
func (ss *Session) parents(p string) error {
	for _, d := range parentDirs(p) {
		if err := ss.mkdir(d); err != nil {
			return err
		}
	}
	return nil
}

func (ss *Session) mkdir(d string) error {
	if ss.dirs[d] {
		return nil
	}
	if e, ok := ss.live[d]; ok && e.Kind != "dir" && ss.offeredNow[d] {
		return fmt.Errorf("path %q goes through %s %q offered in this session: %w", d, e.Kind, d, transfer.ErrRefused)
	}
	fi, err := ss.s.root.Lstat(d)
	switch {
	case err == nil && fi.IsDir():
	case err == nil:
		// A file or a link the sender no longer has where it now has a
		// directory: displace it.
		if err := ss.s.trash(d, ss.start); err != nil {
			return err
		}
		fallthrough
	case isNotExist(err):
		if err := ss.s.mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return storageErr("create directory "+d, err)
		}
		if err := ss.syncDir(path.Dir(d)); err != nil {
			return storageErr("create directory "+d, err)
		}
	default:
		return storageErr("stat "+d, err)
	}
	ss.dirs[d] = true
	return nil
}

// Abandon implements transfer.Sink.
func (ss *Session) Abandon(ctx context.Context, o *transfer.Offer, err error) {
	ss.s.log.Warn("file not received", "path", o.Path, "err", err)
	ss.failed++
	delete(ss.resumed, o.Path)
	if ss.stage != nil && ss.stage.path == o.Path {
		ss.stage.remove()
		ss.stage = nil
	} else if _, ok := ss.s.state.Staged[o.Path]; !ok {
		return
	}
	if jerr := ss.drop(o.Path, o.Hash); jerr != nil {
		ss.s.log.Warn("journal a dropped staging", "path", o.Path, "err", jerr)
	}
}

func kindOf(fi fs.FileInfo) string {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return "symlink"
	case fi.IsDir():
		return "dir"
	}
	return "file"
}

// storageErr wraps a file system failure as a storage error, or as out of
// space when the disk is full.
func storageErr(op string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%s: %w: %w", op, transfer.ErrNoSpace, err)
	}
	return fmt.Errorf("%s: %w: %w", op, transfer.ErrStorage, err)
}
