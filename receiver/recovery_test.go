package receiver

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/transfer"
)

// recStage receives the first n chunks of f in a session of its own on the
// namespace at dir, which then ends as a cut link ends it: what arrived is
// journaled and stays staged.
func recStage(t *testing.T, dir string, f recFile, n int) {
	t.Helper()
	st := recOpen(t, dir, Options{})
	ss := recBegin(t, st)
	o := f.offer(1)
	if r := recOffer(t, ss, o); r.Action != transfer.Send || r.Offset != 0 {
		t.Fatalf("%s: first offer answered %+v, want send from 0", f.path, r)
	}
	recWrite(t, ss, o, f.data, 0, int64(n*recChunk))
	if err := ss.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRecoverIdempotent builds a namespace with staged files and the debris
// of interrupted writes, and checks that opening it cleans up exactly what
// the journal does not account for, and that opening it again changes
// nothing.
func TestRecoverIdempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ns")
	keep := recFile{path: "keep.txt", data: []byte("kept\n")}
	big := recFile{path: "a/big.bin", data: recData("big", 1, 8*recChunk+100)}
	mid := recFile{path: "mid.bin", data: recData("mid", 1, 5*recChunk)}
	nosums := recFile{path: "nosums.bin", data: recData("nosums", 1, 4*recChunk)}
	short := recFile{path: "short.bin", data: recData("short", 1, 4*recChunk)}

	// Manifest 1 holds keep.txt.
	st := recOpen(t, dir, Options{})
	ss := recBegin(t, st)
	recSendFile(t, ss, keep, 1)
	recCommit(t, ss, 1, true)
	ss.Close()
	st.Close()
	// Four interrupted sessions leave four files staged.
	recStage(t, dir, big, 3)
	recStage(t, dir, mid, 2)
	recStage(t, dir, nosums, 2)
	recStage(t, dir, short, 3)

	state := func(p ...string) string { return filepath.Join(append([]string{dir, transfer.StateDir}, p...)...) }
	write := func(name, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Debris: unaccounted staging, temporary files, a manifest HEAD never
	// pointed to.
	junk := []string{
		state("staging", "0123456789abcdef0123456789abcdef"),
		state("staging", "0123456789abcdef0123456789abcdef.sums"),
		state("staging", "junk.txt"),
		state("staging", "junkdir", "x"),
		state("HEAD.tmp"),
		state("journal.tmp"),
		state("manifests", "00000000000000000002.json"),
		state("manifests", "00000000000000000001.json.tmp"),
	}
	for _, j := range junk {
		write(j, "junk\n")
	}
	m1, err := os.ReadFile(state("manifests", "00000000000000000001.json"))
	if err != nil {
		t.Fatal(err)
	}
	write(state("manifests", "00000000000000000002.json"), strings.Replace(string(m1), `"seq":1`, `"seq":2`, 1))
	// big.bin: a fourth chunk written and summed but never journaled, and
	// half of a fifth.
	bigData, bigSums := recStaging(dir, big.path)
	recAppend(t, bigData, big.data[3*recChunk:4*recChunk+recChunk/2])
	var rec [sumRecLen]byte
	binary.BigEndian.PutUint64(rec[:8], uint64(4*recChunk))
	sum := recSum(big.data[3*recChunk : 4*recChunk])
	copy(rec[8:], sum[:])
	recAppend(t, bigSums, rec[:])
	// nosums.bin lost its sidecar; short.bin holds less than its journal
	// says.
	nsData, nsSums := recStaging(dir, nosums.path)
	if err := os.Remove(nsSums); err != nil {
		t.Fatal(err)
	}
	shData, shSums := recStaging(dir, short.path)
	if err := os.Truncate(shData, recChunk); err != nil {
		t.Fatal(err)
	}
	midData, midSums := recStaging(dir, mid.path)

	st = recOpen(t, dir, Options{})
	for _, j := range junk {
		if recExists(j) {
			t.Errorf("%s survived recovery", j)
		}
	}
	if recExists(state("staging", "junkdir")) {
		t.Errorf("unaccounted staging directory survived recovery")
	}
	if h := st.Head(); h == nil || h.Seq != 1 {
		t.Errorf("head after recovery: %+v, want manifest 1", h)
	}
	for _, c := range []struct {
		name string
		want int64
	}{
		{bigData, 3 * recChunk}, {bigSums, 3 * sumRecLen},
		{midData, 2 * recChunk}, {midSums, 2 * sumRecLen},
	} {
		if got := recSize(t, c.name); got != c.want {
			t.Errorf("%s: %d bytes after recovery, want %d", filepath.Base(c.name), got, c.want)
		}
	}
	for _, n := range []string{nsData, nsSums, shData, shSums} {
		if recExists(n) {
			t.Errorf("%s: staging the journal cannot vouch for survived recovery", filepath.Base(n))
		}
	}
	for _, f := range []recFile{nosums, short} {
		h := f.hash()
		if !recHasRecord(t, dir, resume.KindDropped, f.path, &h) {
			t.Errorf("%s: dropped staging not journaled", f.path)
		}
	}
	if _, ok := st.state.Staged[big.path]; !ok {
		t.Errorf("%s: no longer staged after recovery", big.path)
	}

	first := recSnapshot(t, dir)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		st = recOpen(t, dir, Options{})
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if d := recDiff(first, recSnapshot(t, dir)); len(d) > 0 {
			slices.Sort(d)
			t.Fatalf("opening the recovered namespace again (%d) changed .ferry:\n%s", i+1, strings.Join(d, "\n"))
		}
	}

	// What recovery kept resumes; what it dropped starts over.
	st = recOpen(t, dir, Options{})
	defer st.Close()
	ss = recBegin(t, st)
	defer ss.Close()
	for i, c := range []struct {
		f    recFile
		want int64
	}{{big, 3 * recChunk}, {mid, 2 * recChunk}, {nosums, 0}, {short, 0}, {keep, -1}} {
		if got := recSendFile(t, ss, c.f, uint64(i+1)); got != c.want {
			t.Errorf("%s: resumed at %d, want %d", c.f.path, got, c.want)
		}
		recLive(t, dir, c.f.path, c.f.data)
	}
}

// TestResumeDamagedStaging damages staged files between runs and checks
// where the receiver resumes them and that only the file sent is placed.
func TestResumeDamagedStaging(t *testing.T) {
	f := recFile{path: "d/data.bin", data: recData("data", 1, 7*recChunk+123)}
	resumeAt := func(t *testing.T, dir string, want int64) {
		t.Helper()
		st := recOpen(t, dir, Options{})
		defer st.Close()
		ss := recBegin(t, st)
		defer ss.Close()
		o := f.offer(1)
		r := recOffer(t, ss, o)
		if r.Action != transfer.Send || r.Offset != want {
			t.Fatalf("resumed offer answered %v from %d, want send from %d", r.Action, r.Offset, want)
		}
		recWrite(t, ss, o, f.data, r.Offset, int64(len(f.data)))
		if recExists(filepath.Join(dir, "d", "data.bin")) {
			t.Fatalf("%s at its final path before it was finished", f.path)
		}
		if err := recFinish(ss, o); err != nil {
			t.Fatalf("finish: %v", err)
		}
		recLive(t, dir, f.path, f.data)
	}

	t.Run("flipped past the journaled offset", func(t *testing.T) {
		dir := t.TempDir()
		// Chunks are journaled four at a time; the session dies with
		// chunks 5 and 6 written but not journaled, and they rot.
		st := recOpen(t, dir, Options{Group: resume.Grouper{MaxChunks: 4}})
		ss := recBegin(t, st)
		o := f.offer(1)
		recOffer(t, ss, o)
		recWrite(t, ss, o, f.data, 0, 6*recChunk)
		recCrash(ss)
		data, sums := recStaging(dir, f.path)
		if got := recSize(t, data); got != 6*recChunk {
			t.Fatalf("staged %d bytes, want %d", got, 6*recChunk)
		}
		recFlip(t, data, 4*recChunk+1)
		recFlip(t, data, 6*recChunk-1)

		st = recOpen(t, dir, Options{})
		if got := recSize(t, data); got != 4*recChunk {
			t.Errorf("recovery left %d staged bytes, want the journaled %d", got, 4*recChunk)
		}
		if got := recSize(t, sums); got != 4*sumRecLen {
			t.Errorf("recovery left %d bytes of sums, want %d", got, 4*sumRecLen)
		}
		st.Close()
		resumeAt(t, dir, 4*recChunk)
	})

	for _, k := range []int{0, 2, 4} {
		t.Run("flipped inside journaled chunk "+string(rune('0'+k)), func(t *testing.T) {
			dir := t.TempDir()
			recStage(t, dir, f, 5)
			data, _ := recStaging(dir, f.path)
			recFlip(t, data, int64(k*recChunk+recChunk/3))
			resumeAt(t, dir, int64(k*recChunk))
			if k == 0 {
				h := f.hash()
				if !recHasRecord(t, dir, resume.KindDropped, f.path, &h) {
					t.Errorf("a staging with no good chunk was discarded without a journal record")
				}
			}
		})
	}

	t.Run("data and sums damaged alike", func(t *testing.T) {
		// Damage the sums cannot see: the whole-file check refuses the
		// file, nothing is placed, and the next run starts over.
		dir := t.TempDir()
		recStage(t, dir, f, 5)
		data, sums := recStaging(dir, f.path)
		recFlip(t, data, 2*recChunk+5)
		b, err := os.ReadFile(data)
		if err != nil {
			t.Fatal(err)
		}
		s := recSum(b[2*recChunk : 3*recChunk])
		sf, err := os.OpenFile(sums, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sf.WriteAt(s[:], 2*sumRecLen+8); err != nil {
			t.Fatal(err)
		}
		sf.Close()

		st := recOpen(t, dir, Options{})
		ss := recBegin(t, st)
		o := f.offer(1)
		r := recOffer(t, ss, o)
		if r.Offset != 5*recChunk {
			t.Fatalf("resumed at %d, want %d (the damage matches its sums)", r.Offset, 5*recChunk)
		}
		err = recSendRest(t, ss, o, f.data, r.Offset)
		if !errors.Is(err, transfer.ErrHashMismatch) {
			t.Fatalf("finish of a file with damaged bytes: %v, want %v", err, transfer.ErrHashMismatch)
		}
		if recExists(filepath.Join(dir, "d", "data.bin")) {
			t.Fatalf("a damaged file was placed")
		}
		if recExists(data) || recExists(sums) {
			t.Errorf("the refused staging was kept")
		}
		ss.Close()
		st.Close()
		resumeAt(t, dir, 0)
	})

	t.Run("sums sidecar deleted", func(t *testing.T) {
		dir := t.TempDir()
		recStage(t, dir, f, 3)
		data, sums := recStaging(dir, f.path)
		if err := os.Remove(sums); err != nil {
			t.Fatal(err)
		}
		st := recOpen(t, dir, Options{})
		if recExists(data) {
			t.Errorf("staged data without its sums survived recovery")
		}
		h := f.hash()
		if !recHasRecord(t, dir, resume.KindDropped, f.path, &h) {
			t.Errorf("dropped staging not journaled")
		}
		st.Close()
		resumeAt(t, dir, 0)
	})

	t.Run("interrupted again after resuming from a damaged chunk", func(t *testing.T) {
		// Chunks 0-4 journaled, chunk 2 damaged: the next run resumes at
		// chunk 2 and is cut after one chunk. The one after that must
		// resume after that chunk (3), not start over: only one chunk per
		// interruption may be sent again.
		dir := t.TempDir()
		recStage(t, dir, f, 5)
		data, _ := recStaging(dir, f.path)
		recFlip(t, data, 2*recChunk+9)

		st := recOpen(t, dir, Options{})
		ss := recBegin(t, st)
		o := f.offer(1)
		if r := recOffer(t, ss, o); r.Offset != 2*recChunk {
			t.Fatalf("resumed at %d, want %d", r.Offset, 2*recChunk)
		}
		recWrite(t, ss, o, f.data, 2*recChunk, 3*recChunk)
		ss.Close()
		st.Close()
		resumeAt(t, dir, 3*recChunk)
	})
}

// TestTornJournalTail cuts the journal inside its last record, at every
// byte, as a crash in the middle of an append would, and resumes.
func TestTornJournalTail(t *testing.T) {
	f := recFile{path: "t/torn.bin", data: recData("torn", 1, 6*recChunk+77)}
	base := t.TempDir()
	recStage(t, base, f, 4)
	recs, starts, size := recJournal(t, base)
	n := len(recs)
	if n < 2 || recs[n-1].Kind != resume.KindChunk || recs[n-1].Offset != 4*recChunk || recs[n-2].Offset != 3*recChunk {
		t.Fatalf("journal does not end with chunk records at 3 and 4 chunks: %+v", recs)
	}
	last := starts[n-1]
	for cut := last; cut < size; cut++ {
		t.Run("cut at "+strconv.FormatInt(cut, 10), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "ns")
			ftCopy(t, base, dir)
			if err := os.Truncate(filepath.Join(dir, filepath.FromSlash(journalName)), cut); err != nil {
				t.Fatal(err)
			}
			st := recOpen(t, dir, Options{})
			defer st.Close()
			if got := st.j.Truncated(); got != cut-last {
				t.Errorf("recovery cut %d bytes of tail, want %d", got, cut-last)
			}
			if _, _, sz := recJournal(t, dir); sz != last {
				t.Errorf("journal is %d bytes after recovery, want %d", sz, last)
			}
			ss := recBegin(t, st)
			defer ss.Close()
			o := f.offer(1)
			r := recOffer(t, ss, o)
			if r.Action != transfer.Send || r.Offset != 3*recChunk {
				t.Fatalf("resumed offer answered %v from %d, want send from %d", r.Action, r.Offset, 3*recChunk)
			}
			if err := recSendRest(t, ss, o, f.data, r.Offset); err != nil {
				t.Fatalf("finish: %v", err)
			}
			recLive(t, dir, f.path, f.data)
		})
	}
}

// TestResumeSourceChanged: a file staged for one content and offered with
// another starts over, and the stale staging is dropped and journaled.
func TestResumeSourceChanged(t *testing.T) {
	v1 := recFile{path: "c/changed.bin", data: recData("changed", 1, 5*recChunk)}
	for _, tc := range []struct {
		name string
		v2   recFile
	}{
		{"same size", recFile{path: v1.path, data: recData("changed", 2, 5*recChunk)}},
		{"grown", recFile{path: v1.path, data: recData("changed", 2, 9*recChunk+1)}},
		{"shorter than the staged prefix", recFile{path: v1.path, data: recData("changed", 2, recChunk+5)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			recStage(t, dir, v1, 3)
			st := recOpen(t, dir, Options{})
			defer st.Close()
			ss := recBegin(t, st)
			defer ss.Close()
			o := tc.v2.offer(1)
			r := recOffer(t, ss, o)
			if r.Action != transfer.Send || r.Offset != 0 {
				t.Fatalf("offer of new content answered %v from %d, want send from 0", r.Action, r.Offset)
			}
			old := v1.hash()
			if !recHasRecord(t, dir, resume.KindDropped, v1.path, &old) {
				t.Errorf("stale staging dropped without a KindDropped record for the old content")
			}
			if _, ok := st.state.Staged[v1.path]; ok {
				t.Errorf("still staged after the drop: %+v", st.state.Staged[v1.path])
			}
			data, _ := recStaging(dir, v1.path)
			if recExists(data) {
				t.Errorf("stale staging data kept")
			}
			if err := recSendRest(t, ss, o, tc.v2.data, 0); err != nil {
				t.Fatal(err)
			}
			recLive(t, dir, v1.path, tc.v2.data)
		})
	}
}

// TestRecoverLostPlacement: a session dies right after placing files,
// before anything else was journaled. The next session finds them by
// their content and does not ask for them again, and nothing placed is
// lost or moved.
func TestRecoverLostPlacement(t *testing.T) {
	dir := t.TempDir()
	small := recFile{path: "p/small.txt", data: []byte("small\n")}
	big := recFile{path: "p/big.bin", data: recData("placed", 1, 3*recChunk+7)}
	st := recOpen(t, dir, Options{})
	ss := recBegin(t, st)
	recSendFile(t, ss, small, 1)
	recSendFile(t, ss, big, 2)
	recCrash(ss)

	st = recOpen(t, dir, Options{})
	defer st.Close()
	ss = recBegin(t, st)
	defer ss.Close()
	for i, f := range []recFile{small, big} {
		if got := recSendFile(t, ss, f, uint64(i+1)); got != -1 {
			t.Errorf("%s: placed before the crash, asked for again from %d", f.path, got)
		}
		recLive(t, dir, f.path, f.data)
	}
	if c := recCommit(t, ss, 2, true); c.Files != 2 || !c.Complete {
		t.Errorf("committed %+v, want both files", c)
	}
	if recExists(filepath.Join(dir, filepath.FromSlash(trashDir), "1")) {
		t.Errorf("a file placed before the crash was moved to the trash")
	}
}
