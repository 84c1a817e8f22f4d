package scan

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/zeebo/blake3"
)

// The cache file is
//
//	magic    8 bytes, cacheMagic
//	records  sorted by path, strictly increasing, each:
//	           uvarint  bytes of path shared with the previous record's path
//	                    (all of them: the longest common prefix)
//	           uvarint  length of the rest of the path (at least 1)
//	           bytes    the rest of the path
//	           uvarint  dev
//	           uvarint  ino
//	           uvarint  size
//	           varint   modification time, Unix nanoseconds
//	           32 bytes sum
//	trailer  32 bytes, the BLAKE3-256 of magic and records
//
// Varints are minimal. The file is local but untrusted: the trailer rejects
// any damage as a whole (a flipped bit in a sum must not become a wrong
// hit), and decoding checks every length, so a bad file is never more than
// an empty cache. Decoding accepts only what encodeCache writes: one image
// per cache state.
const cacheMagic = "ferryhc\x01"

// encodeCache returns the file image of the used records of recs.
func encodeCache(recs map[string]cacheRec) []byte {
	paths := make([]string, 0, len(recs))
	for p, r := range recs {
		if r.used {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	b := []byte(cacheMagic)
	prev := ""
	for _, p := range paths {
		r := recs[p]
		shared := commonPrefix(prev, p)
		b = binary.AppendUvarint(b, uint64(shared))
		b = binary.AppendUvarint(b, uint64(len(p)-shared))
		b = append(b, p[shared:]...)
		b = binary.AppendUvarint(b, r.dev)
		b = binary.AppendUvarint(b, r.ino)
		b = binary.AppendUvarint(b, uint64(r.size))
		b = binary.AppendVarint(b, r.mtime)
		b = append(b, r.sum[:]...)
		prev = p
	}
	sum := blake3.Sum256(b)
	return append(b, sum[:]...)
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// decodeCache parses a file image written by encodeCache. Every error wraps
// ErrCacheCorrupt. The records it returns are not marked used.
func decodeCache(data []byte) (map[string]cacheRec, error) {
	if len(data) < len(cacheMagic)+len(Sum{}) || string(data[:len(cacheMagic)]) != cacheMagic {
		return nil, fmt.Errorf("not a hash cache file: %w", ErrCacheCorrupt)
	}
	body, trailer := data[:len(data)-len(Sum{})], data[len(data)-len(Sum{}):]
	if sum := blake3.Sum256(body); !bytes.Equal(sum[:], trailer) {
		return nil, fmt.Errorf("checksum mismatch: %w", ErrCacheCorrupt)
	}
	d := cacheDecoder{b: body[len(cacheMagic):]}
	recs := make(map[string]cacheRec)
	prev := ""
	for len(d.b) > 0 {
		shared, rest := d.uvarint(), d.uvarint()
		if d.err == nil && (shared > uint64(len(prev)) || rest == 0 || rest > uint64(len(d.b))) {
			d.fail("bad path length")
		}
		if d.err != nil {
			return nil, d.err
		}
		p := prev[:shared] + string(d.bytes(int(rest)))
		if commonPrefix(prev, p) != int(shared) {
			d.fail("path prefix not shared in full") // not the one encoding
		}
		var r cacheRec
		r.dev, r.ino = d.uvarint(), d.uvarint()
		size := d.uvarint()
		r.mtime = d.varint()
		copy(r.sum[:], d.bytes(len(r.sum)))
		switch {
		case d.err != nil:
			return nil, d.err
		case size > math.MaxInt64:
			d.fail("bad size")
		case strings.Compare(p, prev) <= 0:
			d.fail("paths out of order")
		}
		if d.err != nil {
			return nil, d.err
		}
		r.size = int64(size)
		recs[p] = r
		prev = p
	}
	return recs, nil
}

// cacheDecoder reads the fields of a cache file; after the first error every
// read returns zero and err stays set.
type cacheDecoder struct {
	b   []byte
	err error
}

func (d *cacheDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s at %d bytes from the end: %w", what, len(d.b), ErrCacheCorrupt)
	}
	d.b = nil
}

// uvarint reads a uvarint in its minimal form: a multi-byte varint ending
// in a zero byte is rejected, so that a cache state has one file image.
func (d *cacheDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n > 1 && d.b[n-1] == 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// varint reads a varint in its minimal form, as uvarint does.
func (d *cacheDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 || n > 1 && d.b[n-1] == 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *cacheDecoder) bytes(n int) []byte {
	if n > len(d.b) {
		d.fail("truncated record")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}
