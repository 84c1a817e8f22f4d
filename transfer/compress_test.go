package transfer

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func TestCompressRoundTrip(t *testing.T) {
	text := bytes.Repeat([]byte("2026-11-21T10:00:00Z pump=2 pressure=2.41bar status=ok\n"), 2000)
	noise := make([]byte, 64<<10)
	rand.Read(noise)
	tests := []struct {
		name     string
		mode     Compress
		rate     float64 // of the link, bytes per second; 0 unknown
		data     []byte
		want     bool
		giveUpTo int // fails after the call
	}{
		{"auto text", CompressAuto, 0, text, true, 0},
		{"auto text, slow link", CompressAuto, 1e6, text, true, 0},
		{"auto text, fast link", CompressAuto, 1e9, text, true, 0},
		{"auto noise", CompressAuto, 0, noise, false, 1},
		{"auto noise, slow link", CompressAuto, 1e6, noise, false, 1},
		{"always noise", CompressAlways, 0, noise, false, 1},
		{"never text", CompressNever, 1e6, text, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCompressor(tt.mode)
			c.setRate(tt.rate)
			if want := tt.rate > 0 && tt.rate < betterBelow; c.slow != want {
				t.Fatalf("rate %v: harder compression %v, want %v", tt.rate, c.slow, want)
			}
			fails := 0
			out, ok := c.compress(tt.data, &fails)
			if ok != tt.want || fails != tt.giveUpTo {
				t.Fatalf("compressed %v with %d fails, want %v with %d", ok, fails, tt.want, tt.giveUpTo)
			}
			if !ok {
				return
			}
			if len(out) >= len(tt.data)/4 {
				t.Errorf("text compressed to %d of %d bytes", len(out), len(tt.data))
			}
			var d decompressor
			defer d.close()
			got, err := d.decompress(&Chunk{Compressed: true, Size: len(tt.data), Data: out})
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Fatalf("round trip: %v", err)
			}
		})
	}
}

func TestCompressGivesUp(t *testing.T) {
	noise := make([]byte, 16<<10)
	rand.Read(noise)
	c := newCompressor(CompressAuto)
	fails := 0
	for range giveUpAfter + 2 {
		c.compress(noise, &fails)
	}
	if fails != giveUpAfter {
		t.Errorf("tried %d times after the chunks stopped shrinking, want to stop at %d", fails, giveUpAfter)
	}
}

// TestDecompressBomb: a chunk that inflates past its declared size is
// refused, and nothing past the bound is allocated.
func TestDecompressBomb(t *testing.T) {
	c := newCompressor(CompressAlways)
	fails := 0
	big := make([]byte, MaxChunkSize)
	out, ok := c.compress(big, &fails)
	if !ok {
		t.Fatal("zeros did not compress")
	}
	var d decompressor
	defer d.close()
	for _, declared := range []int{1, 4096, MaxChunkSize - 1} {
		if _, err := d.decompress(&Chunk{Compressed: true, Size: declared, Data: out}); !errors.Is(err, ErrMalformed) {
			t.Errorf("declared %d of %d: got %v, want ErrMalformed", declared, len(big), err)
		}
	}
	huge := append([]byte(nil), out...)
	if _, err := d.decompress(&Chunk{Compressed: true, Size: 10, Data: append(huge, out...)}); !errors.Is(err, ErrMalformed) {
		t.Errorf("two frames past the bound: got %v, want ErrMalformed", err)
	}
	if _, err := d.decompress(&Chunk{Compressed: true, Size: 10, Data: []byte("not zstd at all")}); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage: got %v, want ErrMalformed", err)
	}
}
