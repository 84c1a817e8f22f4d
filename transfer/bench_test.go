package transfer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

func benchData(n int, text bool) []byte {
	if text {
		var b bytes.Buffer
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "2026-11-21T10:%02d:%02dZ pump=%d pressure=%d.%03dbar flow=%dl/m status=ok\n", i/60%60, i%60, i%4, 2, i*7%1000, 40+i%20)
		}
		return b.Bytes()[:n]
	}
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// BenchmarkCompressDecision measures the per-chunk compression decision
// on text (compressed) and random data (tried, refused, then skipped), at
// the default level and at the level used below 100 Mbit/s.
func BenchmarkCompressDecision(b *testing.B) {
	for _, tc := range []struct {
		name string
		text bool
		rate float64
	}{{"text", true, 0}, {"random", false, 0}, {"text-slow-link", true, 1e6}, {"random-slow-link", false, 1e6}} {
		data := benchData(1<<20, tc.text)
		b.Run(tc.name, func(b *testing.B) {
			c := newCompressor(CompressAuto)
			c.setRate(tc.rate)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				fails := 0 // a fresh file each time: the attempt is made
				c.compress(data, &fails)
			}
		})
	}
}

// BenchmarkDelta measures the delta computation: cutting a file into
// content-defined blocks (the receiver's basis) and matching the sender's
// file against it.
func BenchmarkDelta(b *testing.B) {
	data := benchData(16<<20, false)
	blocks, err := MakeBlocks(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		b.Fatal(err)
	}
	basis := basisOf(1, blocks)
	edited := append([]byte(nil), data...)
	copy(edited[8<<20:], make([]byte, 4096))
	b.Run("basis", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			bl, _ := MakeBlocks(bytes.NewReader(data), int64(len(data)))
			basisOf(1, bl)
		}
	})
	b.Run("match", func(b *testing.B) {
		b.SetBytes(int64(len(edited)))
		for b.Loop() {
			p, missing, _ := matchGroups(bytes.NewReader(edited), &basis)
			l, _ := blockList(1, blocks, missing)
			p.matchBlocks(bytes.NewReader(edited), basis.Avg, basis.Group, &l)
			p.ops()
		}
	})
}
