package resume

import "time"

// Grouper decides when the receiver journals. It holds the records of chunks
// whose data was written to staging but not yet synced, and says when the
// group they form is over. Ending a group costs an fsync of the data files
// written and one of the journal; a crash loses at most the open group, so
// the sender re-sends at most that many chunks per file in flight.
//
// The receiver, after writing each chunk's data:
//
//	if g.Add(rec) {
//		// fsync every staging file written since the last flush, then:
//		err = j.Append(g.Take()...)
//	}
//
// and flushes in the same way whatever is pending (Len > 0) when Deadline
// passes and before it stops. The zero Grouper journals every chunk on its
// own, which suits a thin link, where one chunk is all there is to lose.
//
// A Grouper is not safe for concurrent use; the goroutine that writes the
// chunks owns it.
type Grouper struct {
	// MaxChunks is the number of chunk records after which a group ends.
	// If zero, defaults to 1.
	MaxChunks int
	// MaxDelay ends a group when its oldest record has waited this long,
	// checked in Add (see Deadline to act on it between chunks). If zero,
	// groups end by count only.
	MaxDelay time.Duration

	pending []Record
	chunks  int
	since   time.Time // when the oldest pending record was added
}

// Add adds r to the open group and reports whether the group is over: the
// caller must then sync the data its records describe and Append Take().
//
// A group is over when it holds MaxChunks chunk records, when MaxDelay has
// passed since it began, or when r is not a KindChunk record: placements,
// drops and restore points are journaled at once, behind the chunks before
// them. A chunk record for the same path and content as the one just before
// it replaces that one, since it states a longer verified prefix; the group
// still counts both chunks.
func (g *Grouper) Add(r Record) (flush bool) {
	if len(g.pending) == 0 {
		g.since = time.Now()
	}
	if n := len(g.pending); n > 0 && r.Kind == KindChunk && sameStaging(g.pending[n-1], r) {
		if r.Offset > g.pending[n-1].Offset {
			g.pending[n-1] = r
		}
	} else {
		g.pending = append(g.pending, r)
	}
	if r.Kind != KindChunk {
		return true
	}
	g.chunks++
	return g.chunks >= max(g.MaxChunks, 1) ||
		g.MaxDelay > 0 && time.Since(g.since) >= g.MaxDelay
}

func sameStaging(a, b Record) bool {
	return a.Kind == KindChunk && a.Path == b.Path && a.FileHash == b.FileHash
}

// Take returns the pending records, oldest first, and starts a new group.
func (g *Grouper) Take() []Record {
	recs := g.pending
	g.pending, g.chunks = nil, 0
	return recs
}

// Len returns the number of pending records.
func (g *Grouper) Len() int { return len(g.pending) }

// Deadline returns when the open group is due under MaxDelay. ok is false if
// nothing is pending or MaxDelay is zero. A receiver waiting for the next
// chunk can flush at the deadline rather than hold records through a stall.
func (g *Grouper) Deadline() (deadline time.Time, ok bool) {
	if len(g.pending) == 0 || g.MaxDelay <= 0 {
		return time.Time{}, false
	}
	return g.since.Add(g.MaxDelay), true
}
