package transfer

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func blocksOf(t *testing.T, data []byte, avg int) [][]byte {
	t.Helper()
	var out [][]byte
	err := cutBlocks(bytes.NewReader(data), avg, func(b []byte) error {
		out = append(out, append([]byte(nil), b...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCutBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	const avg = 8 << 10
	blocks := blocksOf(t, data, avg)
	if got := bytes.Join(blocks, nil); !bytes.Equal(got, data) {
		t.Fatal("blocks do not reassemble the data")
	}
	for i, b := range blocks[:len(blocks)-1] {
		if len(b) < avg/4 || len(b) > avg*4 {
			t.Fatalf("block %d has %d bytes, outside [%d, %d]", i, len(b), avg/4, avg*4)
		}
	}
	if mean := len(data) / len(blocks); mean < avg/2 || mean > avg*2 {
		t.Errorf("mean block %d bytes, want near %d", mean, avg)
	}

	// An insertion near the start changes only the blocks around it.
	edited := append(append(append([]byte(nil), data[:1000]...), "inserted!"...), data[1000:]...)
	after := blocksOf(t, edited, avg)
	seen := make(map[string]bool)
	for _, b := range blocks {
		seen[string(b)] = true
	}
	changed := 0
	for _, b := range after {
		if !seen[string(b)] {
			changed++
		}
	}
	if changed > 2 {
		t.Errorf("an insertion changed %d blocks of %d, want at most 2", changed, len(after))
	}
}

func TestDeltaBlockSize(t *testing.T) {
	for _, tt := range []struct {
		size int64
		want int
	}{{0, MinDeltaBlock}, {8 << 20, 2 << 10}, {1 << 30, 16 << 10}, {1 << 40, MaxDeltaBlock}} {
		if got := DeltaBlockSize(tt.size); got != tt.want {
			t.Errorf("DeltaBlockSize(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}
