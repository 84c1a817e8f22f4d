package resume

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const journalName = ".ferry/journal"

// newRoot returns a namespace root in a fresh temporary directory, with its
// .ferry directory made.
func newRoot(t testing.TB) (*os.Root, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ".ferry"), 0o700); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root, filepath.Join(dir, journalName)
}

func mustOpen(t testing.TB, root *os.Root) (*Journal, []Record) {
	t.Helper()
	j, recs, err := Open(root, journalName)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j, recs
}

func encodeAll(t testing.TB, recs []Record) []byte {
	t.Helper()
	var b []byte
	for _, r := range recs {
		var err error
		if b, err = Encode(b, r); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestAppendReopen(t *testing.T) {
	root, path := newRoot(t)
	j, recs := mustOpen(t, root)
	if len(recs) != 0 || j.Size() != 0 || j.Truncated() != 0 || j.TailErr() != nil {
		t.Fatalf("new journal: %d records, size %d, truncated %d, tail %v", len(recs), j.Size(), j.Truncated(), j.TailErr())
	}
	want := sampleRecords()
	if err := j.Append(want[:1]...); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(want[1:]...); err != nil { // one group
		t.Fatal(err)
	}
	if err := j.Append(); err != nil {
		t.Fatal(err)
	}
	if j.Size() == 0 || j.Size() != fileSize(t, path) {
		t.Errorf("Size() = %d, file has %d bytes", j.Size(), fileSize(t, path))
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := j.Append(want[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}

	_, got := mustOpen(t, root)
	// Append stamps records that had no time, and only those.
	if got[2].Time == 0 {
		t.Errorf("record without time was not stamped")
	}
	want[2].Time = got[2].Time
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records after reopen (-want +got):\n%s", diff)
	}
}

func TestAppendDoesNotChangeCallerRecords(t *testing.T) {
	root, _ := newRoot(t)
	j, _ := mustOpen(t, root)
	recs := []Record{{Kind: KindCommit, Seq: 1}}
	if err := j.Append(recs...); err != nil {
		t.Fatal(err)
	}
	if recs[0].Time != 0 {
		t.Errorf("Append set the caller's Time to %d", recs[0].Time)
	}
}

func TestAppendInvalidWritesNothing(t *testing.T) {
	root, _ := newRoot(t)
	j, _ := mustOpen(t, root)
	err := j.Append(Record{Kind: KindCommit, Seq: 1}, Record{Kind: KindChunk, Path: "../escape"})
	if err == nil {
		t.Fatal("Append of an invalid record succeeded")
	}
	if j.Size() != 0 {
		t.Errorf("Size() = %d after a failed Append", j.Size())
	}
	// The journal stays usable.
	if err := j.Append(Record{Kind: KindCommit, Seq: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestAppendFailureSticks(t *testing.T) {
	root, _ := newRoot(t)
	j, _ := mustOpen(t, root)
	j.f.Close() // make the next write fail
	err := j.Append(Record{Kind: KindCommit, Seq: 1})
	if err == nil || !strings.HasPrefix(err.Error(), "resume: append to "+journalName) {
		t.Fatalf("Append on a broken file = %v", err)
	}
	if err2 := j.Append(Record{Kind: KindCommit, Seq: 2}); err2 != err {
		t.Errorf("second Append = %v, want the first error %v", err2, err)
	}
	if err2 := j.Rewrite(nil); err2 != err {
		t.Errorf("Rewrite = %v, want the first error %v", err2, err)
	}
}

// For every cut and every flipped byte inside the last of N records, Open
// returns the first N-1, cuts the file back to them, and appends after them.
func TestOpenCutsTornTail(t *testing.T) {
	want := sampleRecords()
	whole := encodeAll(t, want)
	last := int64(len(encodeAll(t, want[:len(want)-1])))

	type tornCase struct {
		name string
		data []byte
	}
	var cases []tornCase
	for cut := last + 1; cut < int64(len(whole)); cut++ {
		cases = append(cases, tornCase{fmt.Sprintf("cut at %d", cut), whole[:cut]})
	}
	for i := last; i < int64(len(whole)); i++ {
		b := bytes.Clone(whole)
		b[i] ^= 0xff
		cases = append(cases, tornCase{fmt.Sprintf("flip byte %d", i), b})
	}
	extra := Record{Kind: KindCommit, Seq: 99, Time: 1}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root, path := newRoot(t)
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			j, got, err := Open(root, journalName)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if diff := cmp.Diff(want[:len(want)-1], got); diff != "" {
				t.Fatalf("records (-want +got):\n%s", diff)
			}
			if size := fileSize(t, path); size != last || j.Size() != last {
				t.Errorf("file size %d, Size() %d; want %d", size, j.Size(), last)
			}
			if n := j.Truncated(); n != int64(len(tc.data))-last {
				t.Errorf("Truncated() = %d, want %d", n, int64(len(tc.data))-last)
			}
			var ce *CorruptError
			if !errors.As(j.TailErr(), &ce) || ce.Offset != last {
				t.Errorf("TailErr() = %v, want a *CorruptError at %d", j.TailErr(), last)
			}
			if err := j.Append(extra); err != nil {
				t.Fatal(err)
			}
			j.Close()

			j2, got2 := mustOpen(t, root)
			if diff := cmp.Diff(append(want[:len(want)-1:len(want)-1], extra), got2); diff != "" {
				t.Errorf("records after append and reopen (-want +got):\n%s", diff)
			}
			if j2.Truncated() != 0 {
				t.Errorf("second Open cut %d bytes", j2.Truncated())
			}
		})
	}
}

func TestOpenCutsFromFirstBadFrame(t *testing.T) {
	recs := sampleRecords()
	tests := []struct {
		name    string
		corrupt func(data []byte, starts []int) []byte
		keep    int
		tail    string
	}{
		{"bad frame in the middle", func(b []byte, s []int) []byte {
			b[s[3]+headerSize+1] ^= 0x10
			return b
		}, 3, "checksum mismatch"},
		{"zeros after the end", func(b []byte, _ []int) []byte {
			return append(b, make([]byte, 4096)...)
		}, len(recs), "bad length 0"},
		{"garbage length", func(b []byte, _ []int) []byte {
			return append(b, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5)
		}, len(recs), "bad length 2147483647"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var data []byte
			var starts []int
			for _, r := range recs {
				starts = append(starts, len(data))
				data, _ = Encode(data, r)
			}
			data = tt.corrupt(data, starts)
			root, path := newRoot(t)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			j, got := mustOpen(t, root)
			if diff := cmp.Diff(recs[:tt.keep], got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			wantErr := fmt.Sprintf("resume: record at %d: %s", j.Size(), tt.tail)
			if j.TailErr() == nil || j.TailErr().Error() != wantErr {
				t.Errorf("TailErr() = %v, want %q", j.TailErr(), wantErr)
			}
			if fileSize(t, path) != j.Size() {
				t.Errorf("file has %d bytes, Size() = %d", fileSize(t, path), j.Size())
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	root, _ := newRoot(t)
	if _, _, err := Open(root, "missing/journal"); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
	if _, _, err := Open(root, "../journal"); err == nil {
		t.Error("Open outside the root succeeded")
	}
}

func TestRewrite(t *testing.T) {
	root, path := newRoot(t)
	j, _ := mustOpen(t, root)
	var all []Record
	for i := range 10 {
		recs := []Record{
			{Kind: KindChunk, Path: "a", FileHash: hash("a"), Offset: int64(i+1) * 100},
			{Kind: KindChunk, Path: fmt.Sprintf("f%d", i), FileHash: hash("f"), Offset: 7},
		}
		if i%3 == 2 {
			recs = append(recs, Record{Kind: KindPlaced, Path: fmt.Sprintf("f%d", i-1), FileHash: hash("f")})
		}
		if err := j.Append(recs...); err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
	}
	all = append(all, Record{Kind: KindCommit, Seq: 3}, Record{Kind: KindClassDone, Class: 1, Seq: 4, Time: 5})
	if err := j.Append(all[len(all)-2:]...); err != nil {
		t.Fatal(err)
	}
	state := Replay(all)
	before := j.Size()
	if err := j.Rewrite(state.Records()); err != nil {
		t.Fatal(err)
	}
	if j.Size() >= before || j.Size() != fileSize(t, path) {
		t.Errorf("Size() = %d after compaction, was %d; file has %d", j.Size(), before, fileSize(t, path))
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
	next := Record{Kind: KindChunk, Path: "a", FileHash: hash("a"), Offset: 5000}
	if err := j.Append(next); err != nil {
		t.Fatal(err)
	}
	j.Close()

	_, got := mustOpen(t, root)
	opts := []cmp.Option{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Record{}, "Time")}
	if diff := cmp.Diff(append(state.Records(), next), got, opts...); diff != "" {
		t.Errorf("records after reopen (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Replay(append(all, next)), Replay(got), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("state after reopen (-want +got):\n%s", diff)
	}
}

// A Rewrite that fails before its rename leaves the journal as it was, and
// usable.
func TestRewriteFailureKeepsJournal(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		recs  []Record
	}{
		{"invalid record", func(*testing.T, string) {}, []Record{{Kind: KindChunk}}},
		{"temporary file cannot be made", func(t *testing.T, path string) {
			if err := os.MkdirAll(filepath.Join(path+".tmp", "x"), 0o700); err != nil {
				t.Fatal(err)
			}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, path := newRoot(t)
			j, _ := mustOpen(t, root)
			rec := Record{Kind: KindCommit, Seq: 1, Time: 1}
			if err := j.Append(rec); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, path)
			if err := j.Rewrite(tt.recs); err == nil {
				t.Fatal("Rewrite succeeded")
			}
			if err := j.Append(rec); err != nil {
				t.Fatal(err)
			}
			j.Close()
			if _, got := mustOpen(t, root); len(got) != 2 {
				t.Errorf("got %d records, want 2", len(got))
			}
		})
	}
}

// A Rewrite that crashed before its rename leaves a temporary file that Open
// removes and that never shadows the journal.
func TestOpenRemovesStaleTemp(t *testing.T) {
	root, path := newRoot(t)
	if err := os.WriteFile(path+".tmp", []byte("half a rewrite"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, root)
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	whole := encodeAll(f, sampleRecords())
	f.Add(whole)
	f.Add(whole[:len(whole)-3])
	f.Add(append(bytes.Clone(whole), make([]byte, 64)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		root, path := newRoot(t)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, recs, err := Open(root, journalName)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer j.Close()
		// What Open returns is exactly the well-formed prefix it kept.
		kept := encodeAll(t, recs)
		if int64(len(kept)) != j.Size() || !bytes.Equal(kept, data[:len(kept)]) {
			t.Fatalf("records re-encode to %d bytes, Size() = %d", len(kept), j.Size())
		}
		if fileSize(t, path) != j.Size() || j.Truncated() != int64(len(data))-j.Size() {
			t.Fatalf("file %d bytes, Size() %d, Truncated() %d of %d", fileSize(t, path), j.Size(), j.Truncated(), len(data))
		}
		if (j.TailErr() != nil) != (j.Truncated() != 0) {
			t.Fatalf("TailErr() = %v with %d bytes cut", j.TailErr(), j.Truncated())
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	for _, group := range []int{1, 16} {
		b.Run(fmt.Sprintf("group=%d", group), func(b *testing.B) {
			root, _ := newRoot(b)
			j, _ := mustOpen(b, root)
			recs := make([]Record, group)
			for i := range recs {
				recs[i] = Record{Kind: KindChunk, Path: "video/big.mp4", FileHash: hash("v"), Offset: int64(i+1) << 20}
			}
			n := 0
			for b.Loop() {
				if err := j.Append(recs...); err != nil {
					b.Fatal(err)
				}
				n += group
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// TestJournalErrorsNameNoAbsolutePath: errors name the journal by its name
// in the namespace; a hub passes them on to senders.
func TestJournalErrorsNameNoAbsolutePath(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := root.Mkdir("journal", 0o700); err != nil {
		t.Fatal(err)
	}
	_, _, err = Open(root, "journal")
	if err == nil {
		t.Fatal("opened a directory as the journal")
	}
	if strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "journal") {
		t.Errorf("error %q: want the journal's name and not %s", err, dir)
	}
}
