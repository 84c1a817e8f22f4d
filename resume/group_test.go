package resume

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestGrouperDefaultIsOneChunk(t *testing.T) {
	var g Grouper
	for i := range 3 {
		if !g.Add(chunk("a", "A", int64(i+1))) {
			t.Fatalf("chunk %d: zero Grouper did not flush", i)
		}
		if got := g.Take(); len(got) != 1 || got[0].Offset != int64(i+1) {
			t.Fatalf("Take() = %+v", got)
		}
	}
	if _, ok := g.Deadline(); ok {
		t.Error("zero Grouper has a deadline")
	}
}

func TestGrouperAdd(t *testing.T) {
	placed := Record{Kind: KindPlaced, Path: "a", FileHash: hash("A")}
	tests := []struct {
		name  string
		max   int
		add   []Record
		flush []bool
		take  []Record
	}{
		{"chunks coalesce until the group is full", 3,
			[]Record{chunk("a", "A", 1), chunk("a", "A", 2), chunk("a", "A", 3)},
			[]bool{false, false, true},
			[]Record{chunk("a", "A", 3)}},
		{"a lower offset does not move back", 3,
			[]Record{chunk("a", "A", 2), chunk("a", "A", 1)},
			[]bool{false, false},
			[]Record{chunk("a", "A", 2)}},
		{"other files and contents stay apart", 4,
			[]Record{chunk("a", "A", 1), chunk("b", "A", 1), chunk("b", "B", 2), chunk("a", "A", 2)},
			[]bool{false, false, false, true},
			[]Record{chunk("a", "A", 1), chunk("b", "A", 1), chunk("b", "B", 2), chunk("a", "A", 2)}},
		{"placement ends the group behind its chunks", 8,
			[]Record{chunk("a", "A", 1), chunk("a", "A", 2), placed},
			[]bool{false, false, true},
			[]Record{chunk("a", "A", 2), placed}},
		{"negative max means one", -1,
			[]Record{chunk("a", "A", 1)},
			[]bool{true},
			[]Record{chunk("a", "A", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Grouper{MaxChunks: tt.max}
			var flush []bool
			for _, r := range tt.add {
				flush = append(flush, g.Add(r))
			}
			if diff := cmp.Diff(tt.flush, flush); diff != "" {
				t.Errorf("Add results (-want +got):\n%s", diff)
			}
			if g.Len() != len(tt.take) {
				t.Errorf("Len() = %d, want %d", g.Len(), len(tt.take))
			}
			if diff := cmp.Diff(tt.take, g.Take()); diff != "" {
				t.Errorf("Take() (-want +got):\n%s", diff)
			}
			if g.Len() != 0 {
				t.Errorf("Len() = %d after Take", g.Len())
			}
			// The group count starts over.
			if tt.max > 1 && g.Add(chunk("z", "Z", 1)) {
				t.Error("new group flushed after one chunk")
			}
		})
	}
}

func TestGrouperMaxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := Grouper{MaxChunks: 100, MaxDelay: time.Second}
		start := time.Now()
		if g.Add(chunk("a", "A", 1)) {
			t.Fatal("first chunk flushed")
		}
		if d, ok := g.Deadline(); !ok || !d.Equal(start.Add(time.Second)) {
			t.Errorf("Deadline() = %v, %v; want %v", d, ok, start.Add(time.Second))
		}
		time.Sleep(999 * time.Millisecond)
		if g.Add(chunk("a", "A", 2)) {
			t.Fatal("flushed before MaxDelay")
		}
		time.Sleep(time.Millisecond)
		if !g.Add(chunk("a", "A", 3)) {
			t.Fatal("did not flush at MaxDelay")
		}
		g.Take()
		if _, ok := g.Deadline(); ok {
			t.Error("deadline with nothing pending")
		}
		// The clock restarts with the next group.
		time.Sleep(5 * time.Second)
		if g.Add(chunk("a", "A", 4)) {
			t.Error("new group flushed at once")
		}
	})
}
