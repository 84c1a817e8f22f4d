package transfer

import "testing"

func TestAutoChunk(t *testing.T) {
	tests := []struct {
		name string
		rate float64
		last int
		want int
	}{
		{"unknown rate", 0, 0, firstAutoChunk},
		{"64 kbit/s", 8000, 16 << 10, 16 << 10},
		{"2 Mbit/s", 250_000, 256 << 10, 256 << 10},
		{"10 Mbit/s", 1_250_000, 1 << 20, 1 << 20},
		{"LAN capped", 100e6, 4 << 20, MaxAutoChunk},
		{"grows at most fourfold", 100e6, 16 << 10, 64 << 10},
		{"shrinks at once", 8000, 4 << 20, MinAutoChunk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := autoChunk(tt.rate, tt.last); got != tt.want {
				t.Errorf("autoChunk(%v, %d) = %d, want %d", tt.rate, tt.last, got, tt.want)
			}
			// A chunk never takes much more than the target on the wire.
			if got := autoChunk(tt.rate, tt.last); tt.rate > 0 && got > MinAutoChunk && float64(got)/tt.rate > 2*chunkSeconds {
				t.Errorf("chunk of %d takes %.1fs at %v B/s", got, float64(got)/tt.rate, tt.rate)
			}
		})
	}
}
