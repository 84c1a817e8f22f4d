package transfer

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// enc appends the fields of a message payload.
type enc struct{ b []byte }

func (e *enc) u8(v uint8)       { e.b = append(e.b, v) }
func (e *enc) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) u32(v uint32)     { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *enc) bytes(p []byte)   { e.b = append(e.b, p...) }
func (e *enc) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// dec reads the fields of a message payload. The first error sticks and
// names the field; later reads return zero values.
type dec struct {
	b   []byte
	off int
	err error
}

func (d *dec) fail(field, why string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s at byte %d: %s: %w", field, d.off, why, ErrMalformed)
	}
}

func (d *dec) u8(field string) uint8 {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail(field, "truncated")
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *dec) u32(field string) uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 4 {
		d.fail(field, "truncated")
		return 0
	}
	v := binary.BigEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

func (d *dec) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail(field, "bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *dec) varint(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail(field, "bad varint")
		return 0
	}
	d.off += n
	return v
}

// size reads a non-negative int64 carried as a uvarint.
func (d *dec) size(field string) int64 {
	v := d.uvarint(field)
	if v > math.MaxInt64 {
		d.fail(field, "overflows int64")
		return 0
	}
	return int64(v)
}

func (d *dec) fixed(field string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b)-d.off < n {
		d.fail(field, "truncated")
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

// str reads a length-prefixed UTF-8 string of at most max bytes.
func (d *dec) str(field string, max int) string {
	n := d.uvarint(field)
	if d.err != nil {
		return ""
	}
	if n > uint64(max) {
		d.fail(field, fmt.Sprintf("length %d above bound %d", n, max))
		return ""
	}
	p := d.fixed(field, int(n))
	if d.err != nil {
		return ""
	}
	if !utf8.Valid(p) {
		d.fail(field, "not UTF-8")
		return ""
	}
	return string(p)
}

// rest returns the unread bytes.
func (d *dec) rest() []byte {
	if d.err != nil {
		return nil
	}
	p := d.b[d.off:]
	d.off = len(d.b)
	return p
}

// end reports trailing bytes as an error and returns the sticky error.
func (d *dec) end(msg Type) error { return d.endAt(msg.String()) }

// endAt is end for a payload that is not a frame's, named what.
func (d *dec) endAt(what string) error {
	if d.err == nil && d.off != len(d.b) {
		d.fail(what, fmt.Sprintf("%d trailing bytes", len(d.b)-d.off))
	}
	if d.err != nil {
		return fmt.Errorf("decode %s: %w", what, d.err)
	}
	return nil
}

// bounded reads a uvarint no larger than max.
func (d *dec) bounded(field string, max uint64) uint64 {
	v := d.uvarint(field)
	if d.err == nil && v > max {
		d.fail(field, fmt.Sprintf("%d above bound %d", v, max))
		return 0
	}
	return v
}

// flag reads a boolean byte, 0 or 1.
func (d *dec) flag(field string) bool {
	v := d.u8(field)
	if d.err == nil && v > 1 {
		d.fail(field, fmt.Sprintf("boolean byte %d", v))
	}
	return v == 1
}
