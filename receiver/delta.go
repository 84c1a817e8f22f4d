package receiver

import (
	"context"
	"fmt"
	"io"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

var _ transfer.DeltaSink = (*Session)(nil)

// minDeltaSize is the smallest file sent as a delta: below it the block
// list costs about what the data does.
const minDeltaSize = 64 << 10

// basis returns the block list of the live tree's version of o's path for
// a delta, or nil when there is no usable earlier version: none in the last
// manifest, touched since, or too small to be worth it.
func (ss *Session) basis(o *transfer.Offer) *transfer.Blocks {
	prev, ok := ss.prev[o.Path]
	if !ok || prev.Kind != "file" || o.Size < minDeltaSize || prev.Size < minDeltaSize {
		return nil
	}
	f, err := ss.s.root.Open(o.Path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != prev.Size || fi.ModTime().UnixNano() != prev.MTime {
		return nil
	}
	// Cut the old version with the block size the new one calls for; the
	// sender cuts with the size the basis names.
	b, err := transfer.MakeBlocks(io.NewSectionReader(f, 0, prev.Size), o.Size)
	if err != nil {
		return nil
	}
	return b
}

// Copy implements transfer.DeltaSink: blocks of the live version, checked
// against the basis, are appended to the file being built.
func (ss *Session) Copy(ctx context.Context, o *transfer.Offer, b *transfer.Blocks, from int64, index, count int) error {
	if err := ss.ensureStage(o, ss.stagedSize(o)); err != nil {
		return err
	}
	f, err := ss.s.root.Open(o.Path)
	if err != nil {
		return fmt.Errorf("open the earlier version of %s: %w: %w", o.Path, transfer.ErrChanged, err)
	}
	defer f.Close()
	var buf []byte
	for i := index; i < index+count; i++ {
		n := b.Lens[i]
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		block := buf[:n]
		if _, err := f.ReadAt(block, from); err != nil {
			return fmt.Errorf("read the earlier version of %s: %w: %w", o.Path, transfer.ErrChanged, err)
		}
		sum := scan.Sum(blake3.Sum256(block))
		if sum != b.Sums[i] {
			return fmt.Errorf("the earlier version of %s changed during the delta: %w", o.Path, transfer.ErrChanged)
		}
		if err := ss.stage.write(block, sum); err != nil {
			return err
		}
		from += int64(n)
	}
	return ss.written(o)
}

// stagedSize is where the next bytes of o go: the end of its staging.
func (ss *Session) stagedSize(o *transfer.Offer) int64 {
	if ss.stage != nil && ss.stage.path == o.Path {
		return ss.stage.size
	}
	return ss.resumed[o.Path].at
}
