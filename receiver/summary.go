package receiver

import (
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

var _ transfer.Summarizer = (*Session)(nil)

// Compare implements transfer.Summarizer: a bucket need not be offered
// when the last manifest's entries in it digest the same as the sender's
// and the live tree still holds them as the manifest says (size and mtime
// of files, links and directories present). Entries of matched buckets are
// carried into the next manifest as they are.
func (ss *Session) Compare(s *transfer.Summary) ([]bool, error) {
	n := len(s.Known)
	metas := make([][]transfer.Meta, n)
	intact := make([]bool, n)
	for i := range intact {
		intact[i] = true
	}
	for p, e := range ss.prev {
		b := transfer.BucketOf(p, n)
		if !s.Known[b] || !intact[b] {
			continue
		}
		m, ok := ss.metaOf(e)
		if !ok {
			intact[b] = false
			continue
		}
		metas[b] = append(metas[b], m)
	}
	send := make([]bool, n)
	ss.matched = make([]bool, n)
	for b := range send {
		if s.Known[b] && intact[b] && transfer.BucketDigest(metas[b]) == s.Digest[b] {
			ss.matched[b] = true
			continue
		}
		send[b] = true
	}
	return send, nil
}

// metaOf returns a manifest entry's summary view, if the live tree still
// holds it.
func (ss *Session) metaOf(e Entry) (transfer.Meta, bool) {
	m := transfer.Meta{Path: e.Path, Size: e.Size, Mode: uint32(e.Mode), MTime: e.MTime, Target: e.Target}
	fi, err := ss.s.root.Lstat(e.Path)
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
