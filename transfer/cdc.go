package transfer

import (
	"io"
	"math/bits"
)

// Content-defined chunking for delta transfer: block boundaries depend on
// the bytes around them (a gear rolling hash, as in FastCDC), not on
// offsets, so an insertion near the start of a file changes the blocks
// around it and no others. No maintained Go package offers this at the
// small block sizes delta needs (restic's chunker starts at 512 KiB), and
// it is a few dozen lines.

// gear is a table of pseudo-random 64-bit values, one per byte value,
// fixed forever: both ends must cut at the same places.
var gear = func() (g [256]uint64) {
	x := uint64(0x9E3779B97F4A7C15)
	for i := range g {
		// splitmix64
		x += 0x9E3779B97F4A7C15
		z := x
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		g[i] = z ^ (z >> 31)
	}
	return g
}()

// Delta block sizes: the average is chosen per file (see DeltaBlockSize).
const (
	MinDeltaBlock = 2 << 10
	MaxDeltaBlock = 64 << 10
)

// DeltaBlockSize returns the average block size for a file of size bytes:
// small, because only the groups around a change list their blocks, but
// large enough to keep a file under 65,536 blocks; a power of two within
// [MinDeltaBlock, MaxDeltaBlock].
func DeltaBlockSize(size int64) int {
	avg := MinDeltaBlock
	for int64(avg)*65536 < size && avg < MaxDeltaBlock {
		avg *= 2
	}
	return avg
}

// cutBlocks calls fn for each content-defined block of r with average size
// avg (a power of two): blocks are at least avg/4 and at most 4×avg long.
// The block passed to fn is only valid during the call.
func cutBlocks(r io.Reader, avg int, fn func(block []byte) error) error {
	minLen, maxLen := avg/4, avg*4
	mask := uint64(1)<<bits.Len(uint(avg-1)) - 1
	mask <<= 64 - bits.Len64(mask) // use the hash's high bits
	// buf holds the current block's start and what was read after it.
	buf := make([]byte, 0, 2*maxLen+256<<10)
	start, pos := 0, 0 // block start and scan position in buf
	var h uint64
	eof := false
	for {
		if pos == len(buf) {
			if eof {
				break
			}
			// Keep the unfinished block, read more behind it.
			n := copy(buf[:cap(buf)], buf[start:])
			buf, pos, start = buf[:n], n, 0
			m, err := io.ReadFull(r, buf[n:cap(buf)])
			buf = buf[:n+m]
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				eof = true
			} else if err != nil {
				return err
			}
			if pos == len(buf) {
				break
			}
		}
		// Scan without a boundary check per byte where the block is
		// still below its minimum.
		if skip := start + minLen - 1 - pos; skip > 0 {
			end := min(pos+skip, len(buf))
			for _, c := range buf[pos:end] {
				h = h<<1 + gear[c]
			}
			pos = end
			continue
		}
		end := min(len(buf), start+maxLen)
		for pos < end {
			h = h<<1 + gear[buf[pos]]
			pos++
			if h&mask == 0 {
				break
			}
		}
		if h&mask == 0 || pos-start == maxLen {
			if err := fn(buf[start:pos]); err != nil {
				return err
			}
			start, h = pos, 0
		}
	}
	if start < len(buf) {
		return fn(buf[start:])
	}
	return nil
}
