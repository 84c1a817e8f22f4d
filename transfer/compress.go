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

// compressor compresses chunks for one sender.
type compressor struct {
	mode Compress
	enc  *zstd.Encoder
	buf  []byte
}

func newCompressor(mode Compress) *compressor {
	c := &compressor{mode: mode}
	if mode != CompressNever {
		// One goroutine, no window beyond the chunk: every chunk is a
		// frame of its own, decodable alone.
		c.enc, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithLowerEncoderMem(true))
	}
	return c
}

// compress returns data compressed if that pays under the mode, and
// whether it did. fails counts the file's chunks that did not shrink.
func (c *compressor) compress(data []byte, fails *int) ([]byte, bool) {
	if c.enc == nil || (c.mode == CompressAuto && *fails >= giveUpAfter) {
		return data, false
	}
	c.buf = c.enc.EncodeAll(data, c.buf[:0])
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
