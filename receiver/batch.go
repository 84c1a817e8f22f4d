package receiver

import (
	"context"
	"path"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// Files are made durable in batches: the files of a batch are fsynced
// together (the file system merges their journal commits), renamed into
// place in plan order, and each directory they went to is fsynced once.
// Many small files cost about one fsync each instead of two in a row, and
// none is reported placed before its directory is durable.

var (
	_ transfer.Batcher = (*Session)(nil)
	_ transfer.Idler   = (*Session)(nil)
)

// Idle implements transfer.Idler: before waiting for the network the open
// journal group is made durable, so on a link slower than the disk every
// chunk is journaled as it arrives, whatever the group size.
func (ss *Session) Idle(ctx context.Context) error { return ss.flush() }

// finished is a verified file waiting in the batch.
type finished struct {
	id   uint64
	st   *staged
	e    Entry
	hash scan.Sum
}

// syncers bounds the fsyncs of a batch in flight at once.
const syncers = 8

// Flush implements transfer.Batcher: it makes the batch durable and places
// it. A file that fails alone is in the returned map with its error; an
// error returned ends the session.
func (ss *Session) Flush(ctx context.Context) (map[uint64]error, error) {
	if len(ss.batch) == 0 {
		return nil, nil
	}
	batch := ss.batch
	ss.batch = nil
	errs := make([]error, len(batch))
	var g errgroup.Group
	g.SetLimit(syncers)
	for i := range batch {
		g.Go(func() error {
			errs[i] = ss.s.syncFile(batch[i].st.f, batch[i].st.name)
			return nil
		})
	}
	g.Wait()
	failed := make(map[uint64]error)
	var dirs []string
	for i, b := range batch {
		b.st.close()
		p := b.e.Path
		err := errs[i]
		if err == nil {
			err = ss.displace(p)
		}
		if err == nil {
			err = ss.s.rename(b.st.name, p)
		}
		if err != nil {
			if !ss.vouched(p, b.hash) {
				b.st.remove()
			}
			ss.failed++
			failed[b.id] = storageErr("place "+p, err)
			continue
		}
		if d := path.Dir(p); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		if err := ss.syncDir(d); err != nil {
			return nil, storageErr("place files in "+d, err)
		}
	}
	for _, b := range batch {
		if failed[b.id] != nil {
			continue
		}
		p := b.e.Path
		b.st.removeSums()
		ss.live[p] = b.e
		ss.placed++
		ss.s.log.Debug("placed", "path", p, "size", b.e.Size)
		if ss.s.opt.Placed != nil {
			ss.s.opt.Placed(p)
		}
		if err := ss.notePlaced(resume.Record{Kind: resume.KindPlaced, Path: p, FileHash: b.hash}); err != nil {
			return nil, err
		}
	}
	if ss.s.opt.CheckpointEvery > 0 && time.Since(ss.lastCP) >= ss.s.opt.CheckpointEvery {
		if err := ss.checkpoint(); err != nil {
			return nil, err
		}
	}
	return failed, nil
}

// vouched reports whether the journal vouches for a staged prefix of p's
// content hash: a file that could not be placed keeps it, and the next
// session resumes from there instead of receiving it all again.
func (ss *Session) vouched(p string, hash scan.Sum) bool {
	st, ok := ss.s.state.Staged[p]
	return ok && st.FileHash == hash
}
