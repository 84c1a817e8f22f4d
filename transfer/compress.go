package transfer

import (
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Compress says when chunks are compressed.
type Compress uint8

// Compression modes.
const (
	// CompressAuto compresses a chunk when that saves at least 1/16 of it,
	// and stops trying for a file after a few chunks that did not shrink.
	CompressAuto Compress = iota
	// CompressAlways tries every chunk and sends the compressed form
	// whenever it is smaller.
	CompressAlways
	// CompressNever sends every chunk raw.
	CompressNever
)

// ParseCompress parses auto, always or never.
func ParseCompress(s string) (Compress, error) {
	switch s {
	case "auto", "":
		return CompressAuto, nil
	case "always":
		return CompressAlways, nil
	case "never":
		return CompressNever, nil
	}
	return 0, fmt.Errorf("compression %q: want auto, always or never", s)
}

// giveUpAfter is how many chunks of a file that did not shrink make auto
// mode stop trying for the rest of it.
const giveUpAfter = 3

// betterBelow is the link rate (bytes per second) under which chunks are
// compressed harder: zstd's "better" level costs about twice the CPU of
// its default (126 against 266 MB/s on this project's machines) for about
// 1.2% fewer bytes on source code, documentation and logs, and below 100
// Mbit/s the link, not the CPU, is what a sync waits for.
const betterBelow = 100e6 / 8

// compressor compresses chunks for one sender.
type compressor struct {
	mode   Compress
	enc    *zstd.Encoder // zstd's default level
	better *zstd.Encoder // made when a slow link first needs it
	slow   bool          // the link is slower than betterBelow
	buf    []byte
}

func newCompressor(mode Compress) *compressor {
	c := &compressor{mode: mode}
	if mode != CompressNever {
		c.enc = newEncoder(zstd.SpeedDefault)
	}
	return c
}

// newEncoder returns an encoder at level. One goroutine, no window beyond
// the chunk: every chunk is a frame of its own, decodable alone.
func newEncoder(level zstd.EncoderLevel) *zstd.Encoder {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(level), zstd.WithLowerEncoderMem(true))
	return enc
}

// setRate tells the compressor the link's rate in bytes per second, if
// known (positive).
func (c *compressor) setRate(rate float64) {
	c.slow = rate > 0 && rate < betterBelow
}

// compress returns data compressed if that pays under the mode, and
// whether it did. fails counts the file's chunks that did not shrink.
func (c *compressor) compress(data []byte, fails *int) ([]byte, bool) {
	if c.enc == nil || (c.mode == CompressAuto && *fails >= giveUpAfter) {
		return data, false
	}
	enc := c.enc
	if c.slow {
		if c.better == nil {
			c.better = newEncoder(zstd.SpeedBetterCompression)
		}
		enc = c.better
	}
	c.buf = enc.EncodeAll(data, c.buf[:0])
	worth := len(c.buf) < len(data)
	if c.mode == CompressAuto {
		worth = len(c.buf) <= len(data)-len(data)/16
	}
	if !worth {
		*fails++
		return data, false
	}
	return c.buf, true
}

// decompressor inflates chunks for one receiving session, refusing any that
// inflate past their declared size.
type decompressor struct {
	dec *zstd.Decoder
	buf []byte
}

func (d *decompressor) decompress(c *Chunk) ([]byte, error) {
	if d.dec == nil {
		var err error
		d.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxChunkSize), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, fmt.Errorf("start decompressor: %w", err)
		}
	}
	if cap(d.buf) < c.Size {
		d.buf = make([]byte, 0, c.Size)
	}
	out, err := d.dec.DecodeAll(c.Data, d.buf[:0])
	if err != nil {
		return nil, fmt.Errorf("decompress chunk at %d: %v: %w", c.Offset, err, ErrMalformed)
	}
	if len(out) != c.Size {
		return nil, fmt.Errorf("chunk at %d inflates to %d bytes, declared %d: %w", c.Offset, len(out), c.Size, ErrMalformed)
	}
	d.buf = out
	return out, nil
}

func (d *decompressor) close() {
	if d.dec != nil {
		d.dec.Close()
	}
}
