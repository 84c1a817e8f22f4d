package transfer

import "math/bits"

// Bounds and target of the adaptive chunk size.
const (
	MinAutoChunk = 16 << 10
	MaxAutoChunk = 4 << 20
	// firstAutoChunk is used until the link rate is known: small enough
	// for a 64 kbit/s link (2 s), large enough to get going.
	firstAutoChunk = 16 << 10
	// chunkSeconds is how long one chunk should take on the wire.
	chunkSeconds = 1.5
)

// chunkSize returns the size of the next chunk.
func (ss *sendSession) chunkSize() int {
	if ss.cfg.ChunkSize > 0 {
		return ss.cfg.ChunkSize
	}
	if ss.cfg.LinkRate == nil {
		return 1 << 20
	}
	rate := ss.cfg.LinkRate()
	if rate < 0 {
		return 1 << 20 // no link to measure: a local destination
	}
	return autoChunk(rate, ss.lastChunk)
}

// autoChunk sizes a chunk for a link carrying rate bytes per second: a
// power of two near rate × chunkSeconds, within bounds, growing at most
// fourfold per chunk so a burst of buffered writes that looks fast cannot
// jump straight to a chunk the link needs minutes for.
func autoChunk(rate float64, last int) int {
	if rate <= 0 {
		return max(last, firstAutoChunk)
	}
	want := int64(rate * chunkSeconds)
	want = min(max(want, MinAutoChunk), MaxAutoChunk)
	size := 1 << (63 - bits.LeadingZeros64(uint64(want))) // round down to a power of two
	if last > 0 {
		size = min(size, 4*last)
	}
	return max(size, MinAutoChunk)
}
