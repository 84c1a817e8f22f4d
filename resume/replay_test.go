package resume

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func chunk(path, content string, off int64) Record {
	return Record{Kind: KindChunk, Path: path, FileHash: hash(content), Offset: off}
}

func staged(path, content string, off int64) Staged {
	return Staged{Path: path, FileHash: hash(content), Offset: off}
}

var stateOpts = cmpopts.EquateEmpty()

func TestReplay(t *testing.T) {
	tests := []struct {
		name string
		recs []Record
		want State
	}{
		{"empty", nil, State{}},
		{"first chunk stages the file", []Record{chunk("a", "A", 10)}, State{
			Staged: map[string]Staged{"a": staged("a", "A", 10)},
		}},
		{"offsets only grow for the same content", []Record{
			chunk("a", "A", 10), chunk("a", "A", 30), chunk("a", "A", 20), chunk("a", "A", 0),
		}, State{Staged: map[string]Staged{"a": staged("a", "A", 30)}}},
		{"new content starts over", []Record{
			chunk("a", "A", 30), chunk("a", "B", 5),
		}, State{Staged: map[string]Staged{"a": staged("a", "B", 5)}}},
		{"files are independent", []Record{
			chunk("a", "A", 1), chunk("b", "A", 2), chunk("a", "A", 3),
		}, State{Staged: map[string]Staged{"a": staged("a", "A", 3), "b": staged("b", "A", 2)}}},
		{"placed ends staging", []Record{
			chunk("a", "A", 10), chunk("b", "B", 1), {Kind: KindPlaced, Path: "a", FileHash: hash("A")},
		}, State{Staged: map[string]Staged{"b": staged("b", "B", 1)}}},
		{"dropped ends staging whatever the hash", []Record{
			chunk("a", "A", 10), {Kind: KindDropped, Path: "a"},
		}, State{}},
		{"staging again after placement starts at its own offset", []Record{
			chunk("a", "A", 10), {Kind: KindPlaced, Path: "a", FileHash: hash("A")}, chunk("a", "A", 4),
		}, State{Staged: map[string]Staged{"a": staged("a", "A", 4)}}},
		{"placed for an unknown file", []Record{{Kind: KindPlaced, Path: "x"}}, State{}},
		{"restore points are collected in order, once", []Record{
			{Kind: KindClassDone, Class: 0, Seq: 1, Time: 10},
			{Kind: KindClassDone, Class: 1, Seq: 1, Time: 11},
			{Kind: KindClassDone, Class: 0, Seq: 1, Time: 12},
		}, State{ClassesDone: []ClassDone{{0, 1, 10}, {1, 1, 11}}}},
		{"commit starts a new session and keeps staging", []Record{
			chunk("bulk", "B", 100),
			{Kind: KindClassDone, Class: 0, Seq: 1},
			{Kind: KindCommit, Seq: 1},
			{Kind: KindClassDone, Class: 0, Seq: 2, Time: 7},
		}, State{
			Staged:      map[string]Staged{"bulk": staged("bulk", "B", 100)},
			LastCommit:  1,
			ClassesDone: []ClassDone{{Class: 0, Seq: 2, Time: 7}},
		}},
		{"last commit wins", []Record{{Kind: KindCommit, Seq: 5}, {Kind: KindCommit, Seq: 6}}, State{LastCommit: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Replay(tt.recs)
			if diff := cmp.Diff(tt.want, got, stateOpts); diff != "" {
				t.Errorf("Replay (-want +got):\n%s", diff)
			}
			if got.Staged == nil {
				t.Error("Replay returned a nil Staged map")
			}
			checkFixedPoint(t, tt.recs)
		})
	}
}

// checkFixedPoint checks that compaction keeps the state and that replay
// tolerates any record appended twice.
func checkFixedPoint(t *testing.T, recs []Record) {
	t.Helper()
	want := Replay(recs)
	compact := want.Records()
	if diff := cmp.Diff(want, Replay(compact), stateOpts); diff != "" {
		t.Fatalf("Replay(Records()) differs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(compact, Replay(compact).Records(), stateOpts); diff != "" {
		t.Fatalf("Records() is not stable (-want +got):\n%s", diff)
	}
	for i := range recs {
		twice := slices.Insert(slices.Clone(recs), i, recs[i])
		if got := Replay(twice); !equalState(want, got) {
			t.Fatalf("record %d applied twice (-want +got):\n%s", i, cmp.Diff(want, got, stateOpts))
		}
	}
	for _, r := range compact {
		if _, err := Encode(nil, r); err != nil {
			t.Fatalf("Records() yields a record that does not encode: %v", err)
		}
	}
}

// equalState is cmp.Equal(a, b, stateOpts), fast enough to call in loops.
func equalState(a, b State) bool {
	return maps.Equal(a.Staged, b.Staged) && a.LastCommit == b.LastCommit &&
		slices.Equal(a.ClassesDone, b.ClassesDone)
}

// randomRecords returns a valid journal over a few paths and contents.
func randomRecords(rng *rand.Rand, n int) []Record {
	paths := []string{"a", "b", "dir/c"}
	contents := []string{"X", "Y"}
	recs := make([]Record, n)
	for i := range recs {
		p, c := paths[rng.IntN(len(paths))], contents[rng.IntN(len(contents))]
		switch k := rng.IntN(10); {
		case k < 6:
			recs[i] = chunk(p, c, rng.Int64N(8)*100)
		case k == 6:
			recs[i] = Record{Kind: KindPlaced, Path: p, FileHash: hash(c)}
		case k == 7:
			recs[i] = Record{Kind: KindDropped, Path: p}
		case k == 8:
			recs[i] = Record{Kind: KindClassDone, Class: uint8(rng.IntN(3)), Seq: rng.Uint64N(3), Time: int64(i)}
		default:
			recs[i] = Record{Kind: KindCommit, Seq: rng.Uint64N(100)}
		}
	}
	return recs
}

func TestReplayIdempotent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		recs := randomRecords(rng, rng.IntN(40))
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkFixedPoint(t, recs) })
	}
}

func TestReplayDoesNotAlias(t *testing.T) {
	recs := []Record{{Kind: KindClassDone, Class: 1, Seq: 1}}
	a, b := Replay(recs), Replay(recs)
	a.ClassesDone[0].Class = 9
	a.Staged["x"] = Staged{}
	if b.ClassesDone[0].Class != 1 || len(b.Staged) != 0 {
		t.Error("two replays share memory")
	}
}

func TestOffset(t *testing.T) {
	s := Replay([]Record{chunk("a", "A", 300)})
	tests := []struct {
		name, path, content string
		want                int64
	}{
		{"same content", "a", "A", 300},
		{"changed content", "a", "B", 0},
		{"not staged", "b", "A", 0},
	}
	for _, tt := range tests {
		if got := s.Offset(tt.path, hash(tt.content)); got != tt.want {
			t.Errorf("%s: Offset(%q) = %d, want %d", tt.name, tt.path, got, tt.want)
		}
	}
}

func TestApplyZeroState(t *testing.T) {
	var s State
	s.Apply(chunk("a", "A", 1))
	if s.Offset("a", hash("A")) != 1 {
		t.Errorf("Apply on a zero State did not stage: %+v", s)
	}
}
