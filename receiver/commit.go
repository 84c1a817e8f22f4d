package receiver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/transfer"
)

// ClassDone implements transfer.ClassDoner: every entry of class was
// resolved. It journals a lightweight restore point and commits a
// checkpoint manifest of everything placed so far.
//
// When nothing was placed since the last manifest, that manifest is still
// the restore point and nothing is written.
func (ss *Session) ClassDone(ctx context.Context, class uint8) error {
	if !ss.changed() {
		return nil
	}
	if err := ss.checkpoint(); err != nil {
		return err
	}
	return ss.journal(resume.Record{Kind: resume.KindClassDone, Class: class, Seq: ss.Head()})
}

// changed reports whether anything was placed since the last manifest.
func (ss *Session) changed() bool { return ss.placed > ss.placedAtCP }

// checkpoint commits a manifest of the live tree as it is now, marked as a
// checkpoint: the files placed so far and, for paths not yet offered, the
// previous versions.
func (ss *Session) checkpoint() error {
	ss.lastCP = time.Now()
	if !ss.changed() {
		return nil
	}
	entries := make(map[string]Entry, len(ss.prev)+len(ss.live))
	live := ss.s.spellings(ss.live)
	for p, e := range ss.prev {
		if s, ok := live[fold(p)]; ok && s != p {
			continue // renamed in case only, and the new spelling is live
		}
		entries[p] = e
	}
	for p, e := range ss.live {
		entries[p] = e
	}
	_, err := ss.commit(KindCheckpoint, entries)
	return err
}

// Commit implements transfer.Sink.
func (ss *Session) Commit(ctx context.Context, c transfer.Commit) (transfer.Committed, error) {
	// The sender's word is not enough: any entry refused here makes the
	// restore point partial.
	kind := KindPartial
	if c.Complete && ss.failed == 0 {
		kind = KindComplete
	}
	entries := ss.live
	if ss.matched != nil {
		entries = make(map[string]Entry, len(ss.prev))
		for p, e := range ss.prev {
			if ss.unchanged(p) {
				entries[p] = e
			}
		}
		for p, e := range ss.live {
			entries[p] = e
		}
	}
	if kind == KindComplete && ss.s.last != nil && ss.s.last.Complete() && sameEntries(ss.s.last.Entries, entries) {
		// Nothing changed: the last restore point still describes the
		// tree, so no new manifest is written.
		m := ss.s.last
		ss.s.log.Info("unchanged", "seq", m.Seq, "files", m.Files)
		return ss.withProbe(transfer.Committed{Seq: m.Seq, Files: uint64(m.Files), Bytes: uint64(m.Bytes), Complete: true}), nil
	}
	m, err := ss.commit(kind, entries)
	if err != nil {
		return transfer.Committed{}, err
	}
	ss.s.log.Info("committed", "seq", m.Seq, "kind", m.Kind, "files", m.Files, "bytes", m.Bytes, "placed", ss.placed)

	// Directories get their modes and times last: placing files changed
	// their times.
	for i := len(m.Entries) - 1; i >= 0; i-- {
		e := m.Entries[i]
		if e.Kind != "dir" {
			continue
		}
		ss.s.root.Chmod(e.Path, e.Mode)
		t := time.Unix(0, e.MTime)
		ss.s.root.Chtimes(e.Path, t, t)
	}
	return ss.withProbe(transfer.Committed{Seq: m.Seq, Files: uint64(m.Files), Bytes: uint64(m.Bytes), Complete: m.Complete()}), nil
}

// withProbe adds the namespace's probe key to c when the store gives it
// out. Without one the next run connects as usual, so a failure to make
// the key is only logged.
func (ss *Session) withProbe(c transfer.Committed) transfer.Committed {
	if !ss.s.opt.Probes {
		return c
	}
	k, err := ss.s.ProbeKey()
	if err != nil {
		ss.s.log.Warn("no probe key for the sender", "err", err)
		return c
	}
	c.Probe = k
	return c
}

// commit writes the manifest of entries as the next restore point and
// finishes the commit.
func (ss *Session) commit(kind string, entries map[string]Entry) (*Manifest, error) {
	if err := ss.flush(); err != nil {
		return nil, err
	}
	m := &Manifest{Version: manifestVersion, Seq: ss.Head() + 1, Kind: kind, Created: time.Now().UTC()}
	for _, e := range entries {
		m.Entries = append(m.Entries, e)
		if e.Kind == "file" {
			m.Files++
			m.Bytes += e.Size
		}
	}
	slices.SortFunc(m.Entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	if err := ss.s.writeManifest(m); err != nil {
		return nil, storageErr("commit", err)
	}
	ss.s.mu.Lock()
	prev := ss.s.last
	ss.s.head, ss.s.last = m.Seq, m
	ss.s.mu.Unlock()
	if err := ss.s.finishCommit(prev, m, ss.start); err != nil {
		return nil, err
	}
	ss.placedAtCP = ss.placed
	return m, nil
}

// finishCommit completes the commit of m, whose manifest and HEAD are
// durable: what the restore point before it (prev, nil if none) listed and
// m does not (not even under another case, where that is one name: see
// trashable) goes to the trash of seq, then the journal records the commit
// and is compacted. Until the journal records it, the next session
// finishes it (see rollForward).
func (s *Store) finishCommit(prev, m *Manifest, seq uint64) error {
	if prev != nil {
		if err := s.tidy(s.trashable(prev, m), m, seq); err != nil {
			return err
		}
	}
	if err := s.journal(resume.Record{Kind: resume.KindCommit, Seq: m.Seq}); err != nil {
		return err
	}
	err := inNamespace("rewrite", journalName, s.hit(opCompact, journalName))
	if err == nil {
		err = s.j.Rewrite(s.state.Records())
	}
	if err != nil {
		s.jerr = true
		return storageErr("compact journal", err)
	}
	return nil
}

// rollForward finishes the last commit if it did not finish: HEAD names a
// manifest the journal does not record as committed, because the session
// failed or crashed after HEAD was written.
func (s *Store) rollForward() error {
	done := s.state.LastCommit
	if s.last == nil || done >= s.head {
		return nil
	}
	var prev *Manifest
	if done > 0 {
		var err error
		if prev, err = ReadManifest(s.root, done); err != nil {
			// Then what it held and HEAD does not stays in the live
			// tree; nothing is lost.
			s.log.Warn("finish commit: no earlier restore point to compare with", "seq", done, "err", err)
		}
	}
	s.log.Info("finishing commit", "seq", s.head)
	if err := s.finishCommit(prev, s.last, s.head); err != nil {
		return fmt.Errorf("finish commit %d: %w", s.head, err)
	}
	return nil
}

// sameEntries reports whether a manifest's entries are exactly entries.
func sameEntries(list []Entry, entries map[string]Entry) bool {
	if len(list) != len(entries) {
		return false
	}
	for _, a := range list {
		b, ok := entries[a.Path]
		if !ok || a.Kind != b.Kind || a.Size != b.Size || a.Mode != b.Mode || a.MTime != b.MTime || a.Target != b.Target ||
			(a.Hash == nil) != (b.Hash == nil) || (a.Hash != nil && *a.Hash != *b.Hash) {
			return false
		}
	}
	return true
}
