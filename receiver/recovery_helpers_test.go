package receiver

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// Helpers for the recovery and resume tests ("[resume]"). They drive a
// Session directly, as transfer.Receive would, with real data and hashes,
// or through transfer.Receive with a scripted sender when the order of
// frames matters.

// recChunk is the chunk size the tests send: small, so a few KiB make a
// file of several chunks.
const recChunk = 4 << 10

// recWait bounds every wait for the other side of a pipe.
const recWait = 5 * time.Second

var recMTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).UnixNano()

// recFile is a file a test sends.
type recFile struct {
	path  string
	data  []byte
	class uint8
}

// recData returns n bytes of deterministic noise for name and version v.
func recData(name string, v uint64, n int) []byte {
	var h uint64
	for _, c := range name {
		h = h*131 + uint64(c)
	}
	r := rand.New(rand.NewPCG(h, v))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func recSum(b []byte) scan.Sum { return scan.Sum(blake3.Sum256(b)) }

func (f recFile) hash() scan.Sum { return recSum(f.data) }

// offer returns f's offer with the given id.
func (f recFile) offer(id uint64) *transfer.Offer {
	return &transfer.Offer{
		ID: id, Kind: scan.File, Class: f.class, Path: f.path,
		Size: int64(len(f.data)), Mode: 0o644, ModTime: recMTime, Hash: f.hash(),
	}
}

// recOpen opens the namespace at dir and closes it at the end of the test
// unless the test closed it.
func recOpen(t *testing.T, dir string, opt Options) *Store {
	t.Helper()
	if opt.Group.MaxChunks == 0 {
		// These tests drive a Session directly, without Receive's Idle
		// calls: journal every chunk, as a thin link does.
		opt.Group.MaxChunks = 1
	}
	st, err := Open(dir, opt)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return st
}

func recBegin(t *testing.T, st *Store) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), recWait)
	defer cancel()
	ss, err := st.Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	return ss
}

// recOffer offers f and returns the receiver's answer.
func recOffer(t *testing.T, ss *Session, o *transfer.Offer) transfer.Reply {
	t.Helper()
	r, err := ss.Offer(context.Background(), o)
	if err != nil {
		t.Fatalf("offer %s: %v", o.Path, err)
	}
	return r
}

// recWrite writes f's data [from, to) in chunks of recChunk, as the sender
// would after the receiver asked for data from from.
func recWrite(t *testing.T, ss *Session, o *transfer.Offer, data []byte, from, to int64) {
	t.Helper()
	for off := from; off < to; {
		end := min(off+recChunk, to)
		if err := ss.Write(context.Background(), o, off, data[off:end], recSum(data[off:end])); err != nil {
			t.Fatalf("write %s at %d: %v", o.Path, off, err)
		}
		off = end
	}
}

// recSendRest writes f from from to its end and finishes it.
func recSendRest(t *testing.T, ss *Session, o *transfer.Offer, data []byte, from int64) error {
	t.Helper()
	recWrite(t, ss, o, data, from, int64(len(data)))
	return recFinish(ss, o)
}

// recFinish finishes a file and flushes the batch, as Receive does before
// it reports the file done.
func recFinish(ss *Session, o *transfer.Offer) error {
	if err := ss.Finish(context.Background(), o); err != nil {
		return err
	}
	failed, err := ss.Flush(context.Background())
	if err != nil {
		return err
	}
	return failed[o.ID]
}

// recSendFile offers f and, if asked, sends what the receiver wants and
// finishes it. It returns the offset the receiver answered (-1 for a skip).
func recSendFile(t *testing.T, ss *Session, f recFile, id uint64) int64 {
	t.Helper()
	o := f.offer(id)
	r := recOffer(t, ss, o)
	if r.Action == transfer.Skip {
		return -1
	}
	if err := recSendRest(t, ss, o, f.data, r.Offset); err != nil {
		t.Fatalf("finish %s: %v", f.path, err)
	}
	return r.Offset
}

func recCommit(t *testing.T, ss *Session, entries uint64, complete bool) transfer.Committed {
	t.Helper()
	c, err := ss.Commit(context.Background(), transfer.Commit{Entries: entries, Complete: complete})
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	return c
}

// recCrash stops a session as a killed process would: the staging files
// are closed without the open journal group being flushed, and the store
// is dropped without its session ending. The namespace must not be used
// through st again.
func recCrash(ss *Session) {
	if ss.stage != nil {
		ss.stage.close()
		ss.stage = nil
	}
	ss.s.j.Close()
	ss.s.root.Close()
}

// recStaging returns the OS paths of p's staging data and sums files.
func recStaging(dir, p string) (data, sums string) {
	n := filepath.Join(dir, filepath.FromSlash(stageName(p)))
	return n, n + sumsSuffix
}

func recSize(t *testing.T, name string) int64 {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func recExists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

// recFlip inverts the byte at off of the file name.
func recFlip(t *testing.T, name string, off int64) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatalf("read %s at %d: %v", name, off, err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

func recAppend(t *testing.T, name string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// recLive fails t unless the live file p under dir holds exactly want.
func recLive(t *testing.T, dir, p string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return
	}
	if recSum(got) != recSum(want) {
		t.Errorf("%s: %d bytes at the final path that are not the file sent (%d bytes)", p, len(got), len(want))
	}
}

// recSnapshot describes every entry under dir/.ferry: its kind, and for
// files their size and content hash.
func recSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	base := filepath.Join(dir, transfer.StateDir)
	snap := make(map[string]string)
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			snap[rel] = "dir"
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			snap[rel] = "symlink " + target
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := recSum(b)
			snap[rel] = "file " + hex.EncodeToString(sum[:8]) + " " + strconv.Itoa(len(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// recDiff lists the differences between two snapshots.
func recDiff(a, b map[string]string) []string {
	var out []string
	for p, x := range a {
		if y, ok := b[p]; !ok {
			out = append(out, "- "+p+" ("+x+")")
		} else if x != y {
			out = append(out, "~ "+p+": "+x+" -> "+y)
		}
	}
	for p, y := range b {
		if _, ok := a[p]; !ok {
			out = append(out, "+ "+p+" ("+y+")")
		}
	}
	return out
}

// recJournal returns the records of dir's journal and the offset where
// each starts; a torn tail is ignored.
func recJournal(t *testing.T, dir string) (recs []resume.Record, starts []int64, size int64) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(journalName)))
	if err != nil {
		t.Fatal(err)
	}
	off := int64(0)
	for off < int64(len(data)) {
		r, n, err := resume.Decode(data[off:])
		if err != nil {
			break
		}
		recs = append(recs, r)
		starts = append(starts, off)
		off += int64(n)
	}
	return recs, starts, int64(len(data))
}

// recHasRecord reports whether dir's journal holds a record of kind for p
// (with content hash, if hash is not nil).
func recHasRecord(t *testing.T, dir string, kind resume.Kind, p string, hash *scan.Sum) bool {
	t.Helper()
	recs, _, _ := recJournal(t, dir)
	for _, r := range recs {
		if r.Kind == kind && r.Path == p && (hash == nil || r.FileHash == *hash) {
			return true
		}
	}
	return false
}

// recManifestPaths returns the file paths of m with their hashes.
func recManifestFiles(m *Manifest) map[string]scan.Sum {
	out := make(map[string]scan.Sum)
	for _, e := range m.Entries {
		if e.Kind == "file" && e.Hash != nil {
			out[e.Path] = *e.Hash
		}
	}
	return out
}

func recReadManifest(t *testing.T, dir string, seq uint64) *Manifest {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	m, err := ReadManifest(root, seq)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// recWire is a scripted sender speaking the protocol to transfer.Receive
// over an in-memory pipe, for tests where the order of frames matters.
type recWire struct {
	t      *testing.T
	conn   net.Conn
	fw     *transfer.FrameWriter
	frames chan recFrame
	done   chan error // Receive's result
}

type recFrame struct {
	typ transfer.Type
	p   []byte
	err error
}

// recStartWire runs transfer.Receive(ctx, ..., sink) in a goroutine and
// returns the sender's end, handshake done. If closeOnCancel, the
// receiver's end of the pipe is closed when ctx ends, as the hub closes
// its stream.
func recStartWire(t *testing.T, ctx context.Context, sink transfer.Sink, closeOnCancel bool) *recWire {
	t.Helper()
	a, b := net.Pipe()
	w := &recWire{t: t, conn: a, fw: transfer.NewFrameWriter(a), frames: make(chan recFrame, 1024), done: make(chan error, 1)}
	stop := func() bool { return false }
	if closeOnCancel {
		stop = context.AfterFunc(ctx, func() { b.Close() })
	}
	go func() {
		err := transfer.Receive(ctx, b, sink)
		stop()
		b.Close()
		w.done <- err
	}()
	go func() {
		fr := transfer.NewFrameReader(a)
		for {
			typ, p, err := fr.ReadFrame()
			if err != nil {
				w.frames <- recFrame{err: err}
				close(w.frames)
				return
			}
			w.frames <- recFrame{typ: typ, p: append([]byte(nil), p...)}
		}
	}()
	t.Cleanup(func() { a.Close() })
	w.send(transfer.TypeHello, transfer.Hello{MinVersion: transfer.MinVersion, MaxVersion: transfer.MaxVersion}.Append(nil))
	w.expect(transfer.TypeWelcome)
	return w
}

func (w *recWire) send(typ transfer.Type, parts ...[]byte) {
	w.t.Helper()
	if err := w.fw.WriteFrame(typ, parts...); err != nil {
		w.t.Fatalf("send %v: %v", typ, err)
	}
	if err := w.fw.Flush(); err != nil {
		w.t.Fatalf("send %v: %v", typ, err)
	}
}

// next returns the next frame from the receiver.
func (w *recWire) next() recFrame {
	w.t.Helper()
	select {
	case f, ok := <-w.frames:
		if !ok {
			return recFrame{err: io.EOF}
		}
		return f
	case <-time.After(recWait):
		w.t.Fatalf("no frame from the receiver within %v", recWait)
	}
	return recFrame{}
}

func (w *recWire) expect(typ transfer.Type) []byte {
	w.t.Helper()
	f := w.next()
	if f.err != nil {
		w.t.Fatalf("expected %v: %v", typ, f.err)
	}
	if f.typ != typ {
		msg := ""
		if f.typ == transfer.TypeError {
			if m, err := transfer.DecodeError(f.p); err == nil {
				msg = ": " + m.Message
			}
		}
		w.t.Fatalf("expected %v, got %v%s", typ, f.typ, msg)
	}
	return f.p
}

// offer offers o and, for a file with data, returns the reply.
func (w *recWire) offer(o *transfer.Offer) transfer.Reply {
	w.t.Helper()
	w.send(transfer.TypeOffer, o.Append(nil))
	r, err := transfer.DecodeReply(w.expect(transfer.TypeReply))
	if err != nil {
		w.t.Fatal(err)
	}
	if r.ID != o.ID {
		w.t.Fatalf("reply for %d, offered %d", r.ID, o.ID)
	}
	return r
}

// offerLater sends an offer whose reply comes later (a data-less entry
// behind a file still receiving).
func (w *recWire) offerLater(o *transfer.Offer) {
	w.t.Helper()
	w.send(transfer.TypeOffer, o.Append(nil))
}

func (w *recWire) chunks(id uint64, data []byte, from, to int64) {
	w.t.Helper()
	for off := from; off < to; {
		end := min(off+recChunk, to)
		c := transfer.Chunk{ID: id, Offset: off, Hash: recSum(data[off:end])}
		w.send(transfer.TypeChunk, c.AppendHeader(nil), data[off:end])
		off = end
	}
}

func (w *recWire) status() transfer.Status {
	w.t.Helper()
	st, err := transfer.DecodeStatus(transfer.TypeDone, w.expect(transfer.TypeDone))
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

// file sends all of f from the offset the receiver asks for and waits for
// its done.
func (w *recWire) file(f recFile, id uint64) transfer.Status {
	w.t.Helper()
	r := w.offer(f.offer(id))
	if r.Action != transfer.Send {
		w.t.Fatalf("%s: receiver answered %v, want send", f.path, r.Action)
	}
	w.chunks(id, f.data, r.Offset, int64(len(f.data)))
	return w.status()
}

// interrupt ends the session as an interrupted sender does and returns
// Receive's result.
func (w *recWire) interrupt() error {
	w.t.Helper()
	w.send(transfer.TypeError, transfer.ErrorMsg{Code: transfer.CodeCanceled, Message: "sender interrupted"}.Append(nil))
	return w.result()
}

// commit asks for the commit of entries offers.
func (w *recWire) commit(entries uint64, complete bool) transfer.Committed {
	w.t.Helper()
	w.send(transfer.TypeCommit, transfer.Commit{Entries: entries, Complete: complete}.Append(nil))
	c, err := transfer.DecodeCommitted(w.expect(transfer.TypeCommitted))
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.result(); err != nil {
		w.t.Fatalf("receive after commit: %v", err)
	}
	return c
}

// result waits for Receive to return.
func (w *recWire) result() error {
	w.t.Helper()
	select {
	case err := <-w.done:
		return err
	case <-time.After(recWait):
		w.t.Fatalf("Receive did not return within %v", recWait)
	}
	return nil
}

// recIsCanceled reports whether err is how a session ends when its sender
// was interrupted or it was preempted.
func recIsCanceled(err error) bool {
	return err != nil && (errors.Is(err, transfer.ErrCanceled) || strings.Contains(err.Error(), "closed pipe"))
}
