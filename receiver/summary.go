package receiver

import (
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

var _ transfer.Summarizer = (*Session)(nil)

// Digests implements transfer.Summarizer: the digest of each bucket of the
// last manifest whose entries the live tree still holds as the manifest
// says (size and mtime of files, links and directories present).
func (ss *Session) Digests(s *transfer.Summary) ([][8]byte, []bool, error) {
	var entries []Entry
	if ss.s.last != nil {
		entries = ss.s.last.Entries
	}
	digest, have := ss.s.digests(entries, s.Known)
	return digest, have, nil
}

// digests returns the digest of each bucket marked in known over entries,
// and which of them the live tree holds intact.
func (s *Store) digests(entries []Entry, known []bool) ([][8]byte, []bool) {
	n := len(known)
	metas := make([][]transfer.Meta, n)
	have := make([]bool, n)
	copy(have, known)
	for _, e := range entries {
		b := transfer.BucketOf(e.Path, n)
		if !have[b] {
			continue
		}
		m, ok := s.metaOf(e)
		if !ok {
			have[b] = false
			continue
		}
		metas[b] = append(metas[b], m)
	}
	digest := make([][8]byte, n)
	for b := range digest {
		if have[b] {
			digest[b] = transfer.BucketDigest(metas[b])
		}
	}
	return digest, have
}

// Keep implements transfer.Summarizer: the entries of the marked buckets
// of the last manifest are carried into the next one as they are.
func (ss *Session) Keep(buckets []bool) {
	ss.matched = buckets
}

// metaOf returns a manifest entry's summary view, if the live tree still
// holds it.
func (s *Store) metaOf(e Entry) (transfer.Meta, bool) {
	m := transfer.Meta{Path: e.Path, Size: e.Size, Mode: uint32(e.Mode), MTime: e.MTime, Target: e.Target}
	fi, err := s.root.Lstat(e.Path)
	if err != nil {
		return m, false
	}
	switch e.Kind {
	case "file":
		m.Kind = scan.File
		if !fi.Mode().IsRegular() || fi.Size() != e.Size || fi.ModTime().UnixNano() != e.MTime || e.Hash == nil {
			return m, false
		}
		m.Hash = *e.Hash
	case "symlink":
		m.Kind = scan.Symlink
		if kindOf(fi) != "symlink" || e.Hash == nil {
			return m, false
		}
		m.Hash = *e.Hash
	case "dir":
		m.Kind = scan.Dir
		if !fi.IsDir() {
			return m, false
		}
	}
	return m, true
}

// unchanged reports whether the entry at p of the last manifest was carried
// over by a matched summary bucket.
func (ss *Session) unchanged(p string) bool {
	return ss.matched != nil && ss.matched[transfer.BucketOf(p, len(ss.matched))]
}
