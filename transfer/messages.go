package transfer

import (
	"fmt"

	"github.com/ferrysync/ferry/scan"
)

// Protocol versions this build speaks.
const (
	MinVersion = 1
	MaxVersion = 1
)

var magic = []byte("ferry\x00")

// Hello opens a session. The sender states the protocol versions it speaks.
type Hello struct {
	MinVersion, MaxVersion uint16
}

// Append appends the payload of m to b.
func (m Hello) Append(b []byte) []byte {
	e := enc{b}
	e.bytes(magic)
	e.uvarint(uint64(m.MinVersion))
	e.uvarint(uint64(m.MaxVersion))
	return e.b
}

// DecodeHello decodes a hello payload.
func DecodeHello(p []byte) (Hello, error) {
	d := dec{b: p}
	if string(d.fixed("magic", len(magic))) != string(magic) && d.err == nil {
		d.fail("magic", "not a ferry stream")
	}
	m := Hello{
		MinVersion: uint16(d.bounded("min version", 1<<16-1)),
		MaxVersion: uint16(d.bounded("max version", 1<<16-1)),
	}
	if d.err == nil && m.MinVersion > m.MaxVersion {
		d.fail("version", fmt.Sprintf("min %d above max %d", m.MinVersion, m.MaxVersion))
	}
	return m, d.end(TypeHello)
}

// Welcome accepts a session.
type Welcome struct {
	Version uint16
	// Head is the sequence of the receiver's last committed manifest, 0 if
	// it has none.
	Head uint64
}

// Append appends the payload of m to b.
func (m Welcome) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(uint64(m.Version))
	e.uvarint(m.Head)
	return e.b
}

// DecodeWelcome decodes a welcome payload.
func DecodeWelcome(p []byte) (Welcome, error) {
	d := dec{b: p}
	m := Welcome{
		Version: uint16(d.bounded("version", 1<<16-1)),
		Head:    d.uvarint("head"),
	}
	return m, d.end(TypeWelcome)
}

// Offer describes one entry of the plan. IDs start at 1 and grow by one per
// offer in a session.
type Offer struct {
	ID      uint64
	Kind    scan.Kind
	Class   uint8
	Path    string
	Size    int64
	Mode    uint32 // permission bits
	ModTime int64  // Unix nanoseconds
	Hash    scan.Sum
	Target  string // symlinks only
}

// Append appends the payload of m to b.
func (m Offer) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.ID)
	e.u8(uint8(m.Kind))
	e.u8(m.Class)
	e.str(m.Path)
	e.uvarint(uint64(m.Size))
	e.uvarint(uint64(m.Mode))
	e.varint(m.ModTime)
	e.bytes(m.Hash[:])
	e.str(m.Target)
	return e.b
}

// DecodeOffer decodes an offer and validates its path, kind and mode; a
// symlink's target must stay inside the tree.
func DecodeOffer(p []byte) (Offer, error) {
	d := dec{b: p}
	var m Offer
	m.ID = d.uvarint("id")
	m.Kind = scan.Kind(d.u8("kind"))
	m.Class = d.u8("class")
	m.Path = d.str("path", MaxPathLen)
	m.Size = d.size("size")
	m.Mode = uint32(d.bounded("mode", 0o7777))
	m.ModTime = d.varint("mtime")
	copy(m.Hash[:], d.fixed("hash", len(m.Hash)))
	m.Target = d.str("target", MaxPathLen)
	if err := d.end(TypeOffer); err != nil {
		return Offer{}, err
	}
	if err := m.validate(); err != nil {
		return Offer{}, fmt.Errorf("decode offer %d: %w", m.ID, err)
	}
	return m, nil
}

func (m Offer) validate() error {
	if m.ID == 0 {
		return fmt.Errorf("id 0: %w", ErrMalformed)
	}
	if m.Class > 2 {
		return fmt.Errorf("class %d: %w", m.Class, ErrMalformed)
	}
	if err := ValidPath(m.Path); err != nil {
		return err
	}
	switch m.Kind {
	case scan.File:
		if m.Target != "" {
			return fmt.Errorf("%q: file with a link target: %w", m.Path, ErrMalformed)
		}
	case scan.Dir:
		if m.Size != 0 || m.Target != "" {
			return fmt.Errorf("%q: directory with a size or target: %w", m.Path, ErrMalformed)
		}
	case scan.Symlink:
		if m.Size != 0 {
			return fmt.Errorf("%q: symlink with a size: %w", m.Path, ErrMalformed)
		}
		return ValidLinkTarget(m.Path, m.Target)
	default:
		return fmt.Errorf("%q: kind %d: %w", m.Path, m.Kind, ErrMalformed)
	}
	return nil
}

// Action is a receiver's answer to an offer.
type Action uint8

// Actions.
const (
	// Skip: the receiver holds this entry durably; send nothing.
	Skip Action = 1
	// Send: send the file's bytes from Reply.Offset to its end.
	Send Action = 2
	// Delta: send the file against the basis that follows the reply.
	Delta Action = 3
)

// Reply answers one offer.
type Reply struct {
	ID     uint64
	Action Action
	Offset int64
	// Blocks go with a Delta reply: the receiver's version of the file,
	// whose group digests follow in a basis frame.
	Blocks *Blocks
}

// Append appends the payload of m to b.
func (m Reply) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.ID)
	e.u8(uint8(m.Action))
	e.uvarint(uint64(m.Offset))
	return e.b
}

// DecodeReply decodes a reply.
func DecodeReply(p []byte) (Reply, error) {
	d := dec{b: p}
	m := Reply{ID: d.uvarint("id"), Action: Action(d.u8("action")), Offset: d.size("offset")}
	if d.err == nil && m.Action != Skip && m.Action != Send && m.Action != Delta {
		d.fail("action", fmt.Sprintf("unknown action %d", m.Action))
	}
	return m, d.end(TypeReply)
}

// Chunk carries bytes [Offset, Offset+Size) of an offered file and the
// BLAKE3 of those bytes. Data is the bytes as sent: zstd-compressed when
// Compressed is set, else raw (and then Size is len(Data)).
type Chunk struct {
	ID         uint64
	Offset     int64
	Compressed bool
	Size       int // uncompressed length
	Hash       scan.Sum
	Data       []byte
}

const chunkZstd = 1 // flags bit: Data is a zstd frame

// AppendHeader appends the payload of m without its data; the data
// follows it in the frame.
func (m Chunk) AppendHeader(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.ID)
	e.uvarint(uint64(m.Offset))
	if m.Compressed {
		e.u8(chunkZstd)
		e.uvarint(uint64(m.Size))
	} else {
		e.u8(0)
	}
	e.bytes(m.Hash[:])
	return e.b
}

// DecodeChunk decodes a chunk. Data aliases p.
func DecodeChunk(p []byte) (Chunk, error) {
	d := dec{b: p}
	m := Chunk{ID: d.uvarint("id"), Offset: d.size("offset")}
	switch flags := d.u8("flags"); {
	case d.err != nil:
	case flags == chunkZstd:
		m.Compressed = true
		m.Size = int(d.bounded("size", MaxChunkSize))
	case flags != 0:
		d.fail("flags", fmt.Sprintf("unknown flags %#x", flags))
	}
	copy(m.Hash[:], d.fixed("hash", len(m.Hash)))
	m.Data = d.rest()
	if !m.Compressed {
		m.Size = len(m.Data)
	}
	if d.err == nil && (len(m.Data) == 0 || m.Size == 0) {
		d.fail("data", "empty chunk")
	}
	if d.err == nil && m.Offset > 1<<62 {
		d.fail("offset", "out of range")
	}
	return m, d.end(TypeChunk)
}

// Status reports the end of one file: Done from the receiver, Abandon from
// the sender. Code is CodeOK when the file was placed.
type Status struct {
	ID      uint64
	Code    Code
	Message string
}

// Append appends the payload of m to b.
func (m Status) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.ID)
	e.uvarint(uint64(m.Code))
	e.str(truncate(m.Message, 1024))
	return e.b
}

// DecodeStatus decodes a done or abandon payload.
func DecodeStatus(t Type, p []byte) (Status, error) {
	d := dec{b: p}
	m := Status{ID: d.uvarint("id"), Code: Code(d.bounded("code", 1<<16-1)), Message: d.str("message", 1024)}
	return m, d.end(t)
}

// Err returns the status as an error, nil when the file was placed.
func (m Status) Err() error {
	if m.Code == CodeOK {
		return nil
	}
	return &RemoteError{Code: m.Code, Message: m.Message}
}

// Commit asks the receiver to commit a restore point of every entry
// offered in the session. Complete is false when the sender abandoned some.
type Commit struct {
	Entries  uint64
	Complete bool
}

// Append appends the payload of m to b.
func (m Commit) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.Entries)
	e.u8(boolByte(m.Complete))
	return e.b
}

// DecodeCommit decodes a commit.
func DecodeCommit(p []byte) (Commit, error) {
	d := dec{b: p}
	m := Commit{Entries: d.uvarint("entries"), Complete: d.flag("complete")}
	return m, d.end(TypeCommit)
}

// Committed reports the restore point the receiver wrote.
type Committed struct {
	Seq      uint64
	Files    uint64
	Bytes    uint64
	Complete bool
	// Probe, if set, is the key with which the sender may ask the hub
	// whether it still holds a plan before connecting next time.
	Probe ProbeKey
}

// Append appends the payload of m to b.
func (m Committed) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.Seq)
	e.uvarint(m.Files)
	e.uvarint(m.Bytes)
	e.u8(boolByte(m.Complete))
	e.u8(boolByte(!m.Probe.IsZero()))
	if !m.Probe.IsZero() {
		e.bytes(m.Probe.ID[:])
		e.bytes(m.Probe.Key[:])
	}
	return e.b
}

// DecodeCommitted decodes a committed payload.
func DecodeCommitted(p []byte) (Committed, error) {
	d := dec{b: p}
	m := Committed{Seq: d.uvarint("seq"), Files: d.uvarint("files"), Bytes: d.uvarint("bytes"), Complete: d.flag("complete")}
	if d.flag("probe key") {
		copy(m.Probe.ID[:], d.fixed("probe key id", len(m.Probe.ID)))
		copy(m.Probe.Key[:], d.fixed("probe key", len(m.Probe.Key)))
		if d.err == nil && m.Probe.IsZero() {
			d.fail("probe key", "all zero")
		}
	}
	return m, d.end(TypeCommitted)
}

// ErrorMsg ends a session with a reason.
type ErrorMsg struct {
	Code    Code
	Message string
}

// Append appends the payload of m to b.
func (m ErrorMsg) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(uint64(m.Code))
	e.str(truncate(m.Message, 1024))
	return e.b
}

// DecodeError decodes an error payload.
func DecodeError(p []byte) (ErrorMsg, error) {
	d := dec{b: p}
	m := ErrorMsg{Code: Code(d.bounded("code", 1<<16-1)), Message: d.str("message", 1024)}
	return m, d.end(TypeError)
}

func boolByte(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary so the result stays valid UTF-8.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
