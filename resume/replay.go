package resume

import (
	"maps"
	"slices"
)

// Staged is a file in staging: the prefix [0, Offset) of its staging file was
// verified, chunk by chunk, for the file whose content hash is FileHash, and
// is durable.
type Staged struct {
	Path     string
	FileHash [32]byte
	Offset   int64
}

// ClassDone is a lightweight restore point: every file of Class in session
// Seq was placed.
type ClassDone struct {
	Class uint8
	Seq   uint64
	Time  int64 // when it was journaled, unix nanoseconds
}

// State is what a journal says: where each staged file can continue, the last
// committed manifest, and the restore points reached since.
type State struct {
	// Staged holds the files in staging, by path.
	Staged map[string]Staged
	// LastCommit is the sequence of the last committed manifest; 0 if none.
	LastCommit uint64
	// ClassesDone holds the restore points journaled since the last commit,
	// in journal order, without repeats.
	ClassesDone []ClassDone
}

// Replay folds records, oldest first, into a State. It is pure and
// deterministic, and it tolerates repeats: applying any record twice in a
// row has the effect of applying it once, so a group that was appended again
// after a failed Append does no harm.
func Replay(recs []Record) State {
	s := State{Staged: make(map[string]Staged)}
	for _, r := range recs {
		s.Apply(r)
	}
	return s
}

// Apply folds one record into s, as Replay does; a receiver can use it to
// keep its State current as it appends.
//
//   - KindChunk sets Staged[Path] to (FileHash, Offset) if Path is not staged
//     or is staged with another hash; for the same hash it only ever moves
//     Offset forward.
//   - KindPlaced and KindDropped delete Staged[Path].
//   - KindClassDone adds a restore point, unless one with the same Class and
//     Seq is already there.
//   - KindCommit sets LastCommit and clears ClassesDone: a new session begins.
func (s *State) Apply(r Record) {
	switch r.Kind {
	case KindChunk:
		if cur, ok := s.Staged[r.Path]; ok && cur.FileHash == r.FileHash && cur.Offset >= r.Offset {
			return
		}
		if s.Staged == nil {
			s.Staged = make(map[string]Staged)
		}
		s.Staged[r.Path] = Staged{Path: r.Path, FileHash: r.FileHash, Offset: r.Offset}
	case KindPlaced, KindDropped:
		delete(s.Staged, r.Path)
	case KindClassDone:
		seen := slices.ContainsFunc(s.ClassesDone, func(c ClassDone) bool {
			return c.Class == r.Class && c.Seq == r.Seq
		})
		if !seen {
			s.ClassesDone = append(s.ClassesDone, ClassDone{Class: r.Class, Seq: r.Seq, Time: r.Time})
		}
	case KindCommit:
		s.LastCommit = r.Seq
		s.ClassesDone = nil
	}
}

// Offset returns where a sender of the file path with content hash should
// continue: the verified, durable prefix of its staging, or 0 if path is not
// staged for that content. Resume goes by content, never by path alone.
func (s State) Offset(path string, hash [32]byte) int64 {
	if st, ok := s.Staged[path]; ok && st.FileHash == hash {
		return st.Offset
	}
	return 0
}

// Records returns the shortest journal that replays to s, for Rewrite: the
// commit record (if any), the restore points since it, then one chunk record
// per staged file in path order. Replay(s.Records()) equals s for every s
// that Replay returned. Times are those of the restore points; the other
// records get theirs from Rewrite.
func (s State) Records() []Record {
	recs := make([]Record, 0, 1+len(s.ClassesDone)+len(s.Staged))
	if s.LastCommit != 0 {
		recs = append(recs, Record{Kind: KindCommit, Seq: s.LastCommit})
	}
	for _, c := range s.ClassesDone {
		recs = append(recs, Record{Kind: KindClassDone, Class: c.Class, Seq: c.Seq, Time: c.Time})
	}
	for _, p := range slices.Sorted(maps.Keys(s.Staged)) {
		st := s.Staged[p]
		recs = append(recs, Record{Kind: KindChunk, Path: p, FileHash: st.FileHash, Offset: st.Offset})
	}
	return recs
}
