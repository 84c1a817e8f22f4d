package resume

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io/fs"
)

// Kind says what fact a Record states.
type Kind uint8

const (
	// KindChunk: the prefix [0, Offset) of the staged file Path, whose whole
	// content hashes to FileHash, was verified chunk by chunk and is durable.
	KindChunk Kind = iota + 1
	// KindPlaced: the file Path with content FileHash is at its final path.
	KindPlaced
	// KindDropped: the staging of Path was discarded.
	KindDropped
	// KindClassDone: a lightweight restore point; every file of priority class
	// Class in session Seq is placed.
	KindClassDone
	// KindCommit: manifest Seq is committed; a full restore point.
	KindCommit
)

var kindNames = [...]string{
	KindChunk:     "chunk",
	KindPlaced:    "placed",
	KindDropped:   "dropped",
	KindClassDone: "class-done",
	KindCommit:    "commit",
}

func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k >= KindChunk && k <= KindCommit }

// hasPath reports whether records of kind k carry Path and FileHash.
func (k Kind) hasPath() bool { return k == KindChunk || k == KindPlaced || k == KindDropped }

// Record is one journaled fact. Each kind carries only some fields (see Kind);
// the others must be zero, so that a record reads back exactly as written.
type Record struct {
	Kind     Kind
	Path     string   // file path (slash-separated, relative); empty for ClassDone/Commit
	FileHash [32]byte // content hash of the whole file being staged / placed
	Offset   int64    // KindChunk: end of the verified, durable prefix (bytes)
	Class    uint8    // KindClassDone: which class finished
	Seq      uint64   // KindCommit: manifest sequence; KindClassDone: session/sequence it belongs to
	Time     int64    // unix nanoseconds when appended (set by caller or Append if zero)
}

const (
	// Version is the payload format version written by Encode.
	Version = 1
	// MaxPayload bounds a frame's payload. Decode rejects a larger length
	// before looking further, so a corrupt length never causes a large read.
	MaxPayload = 64 << 10
	// MaxPath bounds Record.Path in bytes.
	MaxPath = 4096

	headerSize = 8 // u32 length, u32 CRC-32C
	minPayload = 3 // version, kind, one-byte time
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// A CorruptError says why bytes are not a well-formed record frame.
type CorruptError struct {
	// Offset is where the frame starts: in the file for errors from Open,
	// and 0 (the start of the buffer) for errors from Decode.
	Offset int64
	// Reason names the cause, e.g. "checksum mismatch".
	Reason string
	// Short is set when the bytes end inside the frame: what was read is a
	// prefix that might still be completed by more bytes.
	Short bool
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("resume: record at %d: %s", e.Offset, e.Reason)
}

func corrupt(format string, args ...any) *CorruptError {
	return &CorruptError{Reason: fmt.Sprintf(format, args...)}
}

// Encode appends the frame of r to dst. It fails if r is not well-formed:
// unknown kind, a field set that the kind does not carry, a negative Offset,
// or a Path that is empty, longer than MaxPath or not a valid fs path.
func Encode(dst []byte, r Record) ([]byte, error) {
	if why := check(r); why != "" {
		return dst, fmt.Errorf("resume: encode %s record: %s", r.Kind, why)
	}
	start := len(dst)
	dst = append(dst, make([]byte, headerSize)...)
	dst = append(dst, Version, byte(r.Kind))
	dst = binary.AppendVarint(dst, r.Time)
	switch r.Kind {
	case KindChunk, KindPlaced, KindDropped:
		dst = binary.AppendUvarint(dst, uint64(len(r.Path)))
		dst = append(dst, r.Path...)
		dst = append(dst, r.FileHash[:]...)
		if r.Kind == KindChunk {
			dst = binary.AppendUvarint(dst, uint64(r.Offset))
		}
	case KindClassDone:
		dst = append(dst, r.Class)
		dst = binary.AppendUvarint(dst, r.Seq)
	case KindCommit:
		dst = binary.AppendUvarint(dst, r.Seq)
	}
	payload := dst[start+headerSize:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, castagnoli))
	return dst, nil
}

// check reports why r cannot be encoded, or "" if it can.
func check(r Record) string {
	switch {
	case !r.Kind.valid():
		return "unknown kind"
	case r.Kind.hasPath() && !validPath(r.Path):
		return fmt.Sprintf("invalid path %q", r.Path)
	case !r.Kind.hasPath() && (r.Path != "" || r.FileHash != [32]byte{}):
		return "path or hash set"
	case r.Offset < 0:
		return "negative offset"
	case r.Kind != KindChunk && r.Offset != 0:
		return "offset set"
	case r.Kind != KindClassDone && r.Class != 0:
		return "class set"
	case r.Kind != KindClassDone && r.Kind != KindCommit && r.Seq != 0:
		return "seq set"
	}
	return ""
}

func validPath(p string) bool {
	return p != "" && len(p) <= MaxPath && p != "." && fs.ValidPath(p)
}

// Decode reads the frame at the start of b. It returns the record and the
// number of bytes the frame takes. Errors are *CorruptError; Short is set when
// b ends inside a frame whose length is plausible.
func Decode(b []byte) (Record, int, error) {
	if len(b) < headerSize {
		return Record{}, 0, &CorruptError{Reason: fmt.Sprintf("short frame: %d header bytes", len(b)), Short: true}
	}
	n := binary.LittleEndian.Uint32(b)
	if n < minPayload || n > MaxPayload {
		return Record{}, 0, corrupt("bad length %d", n)
	}
	if uint64(len(b)-headerSize) < uint64(n) {
		return Record{}, 0, &CorruptError{Reason: fmt.Sprintf("short frame: %d of %d payload bytes", len(b)-headerSize, n), Short: true}
	}
	payload := b[headerSize : headerSize+int(n)]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return Record{}, 0, corrupt("checksum mismatch")
	}
	r, err := decodePayload(payload)
	if err != nil {
		return Record{}, 0, err
	}
	return r, headerSize + int(n), nil
}

// decodePayload parses a payload whose checksum matched. It accepts exactly
// what Encode writes: canonical varints, no trailing bytes.
func decodePayload(p []byte) (Record, error) {
	d := decoder{b: p}
	if v := d.u8(); v != Version {
		return Record{}, corrupt("unknown version %d", v)
	}
	r := Record{Kind: Kind(d.u8())}
	if !r.Kind.valid() {
		return Record{}, corrupt("unknown kind %d", r.Kind)
	}
	r.Time = d.varint()
	switch r.Kind {
	case KindChunk, KindPlaced, KindDropped:
		n := d.uvarint()
		if n > MaxPath {
			return Record{}, corrupt("path length %d exceeds %d", n, MaxPath)
		}
		r.Path = string(d.bytes(int(n)))
		copy(r.FileHash[:], d.bytes(len(r.FileHash)))
		if r.Kind == KindChunk {
			off := d.uvarint()
			if off > 1<<63-1 {
				return Record{}, corrupt("offset %d out of range", off)
			}
			r.Offset = int64(off)
		}
	case KindClassDone:
		r.Class = d.u8()
		r.Seq = d.uvarint()
	case KindCommit:
		r.Seq = d.uvarint()
	}
	switch {
	case d.err != "":
		return Record{}, corrupt("%s record: %s", r.Kind, d.err)
	case len(d.b) != 0:
		return Record{}, corrupt("%s record: %d trailing bytes", r.Kind, len(d.b))
	case r.Kind.hasPath() && !validPath(r.Path):
		return Record{}, corrupt("%s record: invalid path %q", r.Kind, r.Path)
	}
	return r, nil
}

// decoder consumes a payload; the first problem sticks in err and later
// reads return zero values.
type decoder struct {
	b   []byte
	err string
}

func (d *decoder) fail(msg string) {
	if d.err == "" {
		d.err = msg
	}
	d.b = nil
}

func (d *decoder) u8() byte {
	if len(d.b) < 1 {
		d.fail("payload too short")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes(n int) []byte {
	if len(d.b) < n {
		d.fail("payload too short")
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	d.advanceVarint(n)
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	d.advanceVarint(n)
	return v
}

// advanceVarint skips a varint of n bytes as reported by encoding/binary,
// rejecting truncated, overflowing and non-canonical (zero-padded) ones.
func (d *decoder) advanceVarint(n int) {
	switch {
	case n == 0:
		d.fail("payload too short")
	case n < 0:
		d.fail("varint overflow")
	case n > 1 && d.b[n-1] == 0:
		d.fail("non-canonical varint")
	default:
		d.b = d.b[n:]
	}
}
