package transfer

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Type identifies a frame.
type Type uint8

// Frame types. Values are part of the protocol and never reused.
const (
	TypeHello     Type = 1 // sender → receiver: magic, version, options
	TypeWelcome   Type = 2 // receiver → sender: accepted version, receiver state
	TypeOffer     Type = 3 // sender → receiver: one entry of the plan
	TypeReply     Type = 4 // receiver → sender: skip, or send from an offset
	TypeChunk     Type = 5 // sender → receiver: file bytes with their BLAKE3
	TypeDone      Type = 6 // receiver → sender: a file was placed, or refused
	TypeAbandon   Type = 7 // sender → receiver: a file will not be completed
	TypeCommit    Type = 8 // sender → receiver: every entry was offered, commit
	TypeCommitted Type = 9 // receiver → sender: the restore point written
	TypeError     Type = 10
	// sender → receiver, right after hello: a digest of the plan
	TypeSummary Type = 11
	// receiver → sender, right after welcome: whether it holds the plan,
	// else its bucket digests
	TypeSummaryReply Type = 12
	// receiver → sender, after a delta reply: the blocks it holds
	TypeBasis Type = 13
	// sender → receiver: copy blocks of the basis into the new file
	TypeCopy Type = 14
	// sender → receiver: the basis groups it needs listed block by block
	TypeNeed Type = 15
	// receiver → sender: the blocks of the groups needed
	TypeBlockList Type = 16
	// sender → receiver, after a summary reply without a match: the
	// buckets to carry over unchanged
	TypeKeep Type = 17
)

func (t Type) String() string {
	switch t {
	case TypeHello:
		return "hello"
	case TypeWelcome:
		return "welcome"
	case TypeOffer:
		return "offer"
	case TypeReply:
		return "reply"
	case TypeChunk:
		return "chunk"
	case TypeDone:
		return "done"
	case TypeAbandon:
		return "abandon"
	case TypeCommit:
		return "commit"
	case TypeCommitted:
		return "committed"
	case TypeError:
		return "error"
	case TypeSummary:
		return "summary"
	case TypeSummaryReply:
		return "summary reply"
	case TypeBasis:
		return "basis"
	case TypeCopy:
		return "copy"
	case TypeNeed:
		return "need"
	case TypeBlockList:
		return "block list"
	case TypeKeep:
		return "keep"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

const (
	headerLen = 5

	// MaxChunkSize is the largest chunk payload either side accepts.
	MaxChunkSize = 8 << 20
	// MaxPathLen bounds a path on the wire, in bytes.
	MaxPathLen = 4096
)

// maxPayload is the hard bound on each frame type's payload, checked before
// the payload is read.
func maxPayload(t Type) (int, bool) {
	switch t {
	case TypeHello, TypeWelcome, TypeCommit, TypeCommitted:
		return 1 << 10, true
	case TypeOffer:
		return 2*MaxPathLen + 128, true
	case TypeReply, TypeDone, TypeAbandon, TypeError:
		return 2 << 10, true
	case TypeChunk:
		return MaxChunkSize + 64, true
	case TypeSummary, TypeKeep:
		return 32 + MaxBuckets/8, true
	case TypeSummaryReply:
		return 16 + MaxBuckets/8 + 8*MaxBuckets, true
	case TypeBasis:
		return 32 + 8*MaxBasisGroups, true
	case TypeNeed:
		return 16 + 2*MaxBasisGroups, true
	case TypeBlockList:
		return 16 + 6*MaxBasisGroups + MaxBasisBlocks*(3+blockHashLen), true
	case TypeCopy:
		return 64, true
	}
	return 0, false
}

// FrameWriter writes frames to an ordered byte stream. It buffers; Flush
// pushes what was written to the stream.
type FrameWriter struct {
	w   *bufio.Writer
	hdr [headerLen]byte
	n   int64
}

// NewFrameWriter returns a FrameWriter on w.
func NewFrameWriter(w io.Writer) *FrameWriter {
	return &FrameWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// WriteFrame writes one frame whose payload is the concatenation of parts.
func (fw *FrameWriter) WriteFrame(t Type, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if limit, ok := maxPayload(t); !ok || n > limit {
		return fmt.Errorf("write %v frame of %d bytes: %w", t, n, ErrFrameTooLarge)
	}
	fw.hdr[0] = byte(t)
	binary.BigEndian.PutUint32(fw.hdr[1:], uint32(n))
	if _, err := fw.w.Write(fw.hdr[:]); err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := fw.w.Write(p); err != nil {
			return err
		}
	}
	fw.n += int64(headerLen + n)
	return nil
}

// Flush writes buffered frames to the stream.
func (fw *FrameWriter) Flush() error { return fw.w.Flush() }

// BytesWritten returns the number of frame bytes written so far.
func (fw *FrameWriter) BytesWritten() int64 { return fw.n }

// FrameReader reads frames from an ordered byte stream.
type FrameReader struct {
	r   *bufio.Reader
	buf []byte
	n   int64
}

// NewFrameReader returns a FrameReader on r.
func NewFrameReader(r io.Reader) *FrameReader {
	return &FrameReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// ReadFrame reads the next frame. The payload is valid until the next call.
// A clean end of stream between frames returns io.EOF; an unknown type or a
// length above the type's bound is an error before the payload is read.
func (fr *FrameReader) ReadFrame() (Type, []byte, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return 0, nil, fmt.Errorf("read frame header: %w", ErrTruncated)
		}
		return 0, nil, err
	}
	t := Type(hdr[0])
	n := binary.BigEndian.Uint32(hdr[1:])
	limit, ok := maxPayload(t)
	if !ok {
		return 0, nil, fmt.Errorf("read frame: %w %d", ErrUnknownType, hdr[0])
	}
	if n > uint32(limit) {
		return 0, nil, fmt.Errorf("read %v frame: length %d above bound %d: %w", t, n, limit, ErrFrameTooLarge)
	}
	if cap(fr.buf) < int(n) {
		fr.buf = make([]byte, n)
	}
	p := fr.buf[:n]
	if _, err := io.ReadFull(fr.r, p); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return 0, nil, fmt.Errorf("read %v frame: %w", t, ErrTruncated)
		}
		return 0, nil, err
	}
	fr.n += int64(headerLen) + int64(n)
	return t, p, nil
}

// frameReady reports whether a whole frame is buffered, so that reading it
// will not wait for the peer.
func (fr *FrameReader) frameReady() bool {
	if fr.r.Buffered() < headerLen {
		return false
	}
	hdr, err := fr.r.Peek(headerLen)
	if err != nil {
		return false
	}
	return fr.r.Buffered() >= headerLen+int(binary.BigEndian.Uint32(hdr[1:]))
}

// BytesRead returns the number of frame bytes read so far.
func (fr *FrameReader) BytesRead() int64 { return fr.n }
