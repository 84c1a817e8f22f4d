package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/prioritize"
	"github.com/ferrysync/ferry/scan"
)

// SenderConfig configures a Sender. The zero value works.
type SenderConfig struct {
	// ChunkSize is the payload of one chunk frame, at most MaxChunkSize.
	// If zero, it adapts to LinkRate so that a chunk takes about 1.5 s on
	// the wire, between MinAutoChunk and MaxAutoChunk: resume and priority
	// switches happen at chunk boundaries, so this bounds their latency.
	ChunkSize int
	// LinkRate, if set, returns the rate the link is carrying now, in
	// bytes per second: 0 if not known yet, negative if there is no link
	// to measure. Without it, or when negative, an adaptive chunk size
	// stays at 1 MiB.
	LinkRate func() float64
	// Window is how many offered entries may wait for their reply or their
	// data at once. It bounds how far hashing and offers run ahead of the
	// data. If zero, defaults to 64.
	Window int
	// Lookahead is how many entries are hashed ahead of the offers. If zero,
	// defaults to 2.
	Lookahead int
	// Compress says when chunks are compressed; the zero value is
	// CompressAuto.
	Compress Compress
	// Events, if set, is called for each Event.
	Events func(Event)
}

// Sender streams a plan to a receiver.
type Sender struct {
	cfg SenderConfig
}

// NewSender returns a Sender.
func NewSender(cfg SenderConfig) *Sender {
	cfg.ChunkSize = min(max(cfg.ChunkSize, 0), MaxChunkSize)
	if cfg.Window <= 0 {
		cfg.Window = 64
	}
	if cfg.Lookahead <= 0 {
		cfg.Lookahead = 2
	}
	if cfg.Events == nil {
		cfg.Events = func(Event) {}
	}
	return &Sender{cfg: cfg}
}

// FileError is an entry that did not reach the receiver.
type FileError struct {
	Path string
	Err  error
}

func (e FileError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }

// Result summarises a session.
type Result struct {
	Entries      int   // entries offered
	Unchanged    int   // entries not offered: the summary showed them unchanged
	FilesSent    int   // files whose bytes crossed the stream
	PayloadBytes int64 // file bytes sent
	DataBytes    int64 // chunk data on the stream: PayloadBytes after compression
	CopiedBytes  int64 // file bytes the receiver copied from its own version
	FrameBytes   int64 // frame bytes written and read
	Failed       []FileError
	// CriticalDone is when the last critical entry became durable on the
	// receiver; zero if the plan had none.
	CriticalDone time.Time
	Committed    Committed
}

// Send runs one session on rw: handshake, offers and data in plan order,
// commit. It returns when the receiver reported the committed restore point,
// or with the first error that ended the session. Entries that failed alone
// (unreadable, changed while sent, refused) are listed in Result.Failed and
// the commit is marked incomplete.
//
// Send owns rw for the session and closes it before returning on error, so
// that its reading goroutine ends; on success the caller closes it.
func (s *Sender) Send(ctx context.Context, rw io.ReadWriteCloser, plan prioritize.Plan, src Source) (Result, error) {
	ss := &sendSession{
		rw:   rw,
		cfg:  s.cfg,
		fw:   NewFrameWriter(rw),
		fr:   NewFrameReader(rw),
		src:  src,
		in:   newInbox[inMsg](),
		plan: plan,
	}
	res, err := ss.run(ctx)
	res.FrameBytes = ss.fw.BytesWritten() + ss.fr.BytesRead()
	return res, err
}

type inMsg struct {
	t   Type
	msg any
	err error
}

type hashed struct {
	item *prioritize.Item
	sum  scan.Sum
	err  error
}

// pending is an offered entry waiting for its reply, its data or its done.
type pending struct {
	id      uint64
	item    *prioritize.Item
	hash    scan.Sum
	replied bool
	offset  int64 // next byte to send
	start   int64
	f       File
	h       *blake3.Hasher
	sent    bool // all bytes written, waiting for done
	fails   int  // chunks that did not compress
	// A delta: waiting for the basis, then for the block list; then
	// what to send.
	awaitBasis, awaitBlocks bool
	basis                   Basis
	delta                   *deltaPlan
	ops                     []deltaOp
}

type sendSession struct {
	rw   io.ReadWriteCloser
	cfg  SenderConfig
	fw   *FrameWriter
	fr   *FrameReader
	src  Source
	in   *inbox[inMsg]
	plan prioritize.Plan

	res       Result
	nextID    uint64
	window    []*pending // offered and unresolved, in id order
	byID      map[uint64]*pending
	abandoned map[uint64]bool // given up while a done for them may still come
	critLeft  int
	scratch   []byte
	buf       []byte
	zstd      *compressor
	lastChunk int // size of the last chunk read, for the adaptive size
}

func (ss *sendSession) run(ctx context.Context) (Result, error) {
	items := PlanItems(ss.plan)
	for i := range items {
		if items[i].Class == prioritize.Critical {
			ss.critLeft++
		}
	}
	hc, _ := ss.src.(HashCache)
	sum, buckets := summarize(items, hc)
	send, done, err := ss.handshake(sum)
	if err != nil {
		ss.rw.Close()
		return ss.res, err
	}
	if send != nil {
		items = ss.skipUnchanged(items, buckets, send)
	}
	if done {
		return ss.res, nil
	}
	ss.byID = make(map[uint64]*pending)
	ss.buf = make([]byte, max(ss.cfg.ChunkSize, MaxAutoChunk))
	ss.zstd = newCompressor(ss.cfg.Compress)

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		ss.readLoop()
	}()
	hashes := make(chan hashed, ss.cfg.Lookahead)
	hashDone := make(chan struct{})
	go func() {
		defer close(hashDone)
		defer close(hashes)
		for i := range items {
			h := hashed{item: &items[i]}
			if k := items[i].Kind; k == scan.File || k == scan.Symlink {
				h.sum, h.err = ss.src.Hash(ctx, items[i].Entry)
			}
			select {
			case hashes <- h:
			case <-ctx.Done():
				return
			}
		}
	}()
	err = ss.loop(ctx, hashes)
	for _, p := range ss.window {
		if p.f != nil {
			p.f.Close()
		}
	}
	cancel()
	<-hashDone
	if err != nil && parent.Err() != nil {
		ss.stop(readDone)
	}
	if err != nil {
		ss.rw.Close()
	}
	<-readDone
	if err != nil && parent.Err() == nil {
		err = ss.remoteCause(err)
	}
	return ss.res, err
}

// remoteCause returns the receiver's own error when it reported one: a
// write that failed because the receiver ended the session and closed the
// stream is a symptom, the error frame it sent first is the cause.
func (ss *sendSession) remoteCause(err error) error {
	var re *RemoteError
	if errors.As(err, &re) {
		return err
	}
	for _, m := range ss.in.drain() {
		if errors.As(m.err, &re) {
			return re
		}
	}
	return err
}

// stopGrace bounds how long an interrupted sender waits for the receiver
// to take note before it closes the stream anyway.
const stopGrace = 5 * time.Second

// stop ends an interrupted session at a chunk boundary: it tells the
// receiver, which journals what arrived, and waits briefly for it to close
// its end.
func (ss *sendSession) stop(readDone <-chan struct{}) {
	if d, ok := ss.rw.(interface{ SetWriteDeadline(time.Time) error }); ok {
		d.SetWriteDeadline(time.Now().Add(stopGrace))
	}
	m := ErrorMsg{Code: CodeCanceled, Message: "sender interrupted"}
	if ss.fw.WriteFrame(TypeError, m.Append(nil)) != nil || ss.fw.Flush() != nil {
		return
	}
	if cw, ok := ss.rw.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	select {
	case <-readDone:
	case <-time.After(stopGrace):
	}
}

// handshake sends hello (and the summary, if any) and reads the welcome
// (and the summary reply): one round trip. It returns which buckets to
// offer, nil to offer everything, and whether the receiver already holds
// the whole plan and committed (then there is nothing more to do).
func (ss *sendSession) handshake(sum *Summary) (send []bool, done bool, err error) {
	if err := ss.fw.WriteFrame(TypeHello, Hello{MinVersion: MinVersion, MaxVersion: MaxVersion}.Append(nil)); err != nil {
		return nil, false, fmt.Errorf("send hello: %w", err)
	}
	if sum != nil {
		if err := ss.fw.WriteFrame(TypeSummary, sum.Append(nil)); err != nil {
			return nil, false, fmt.Errorf("send summary: %w", err)
		}
	}
	if err := ss.fw.Flush(); err != nil {
		return nil, false, fmt.Errorf("send hello: %w", err)
	}
	p, err := ss.expect(TypeWelcome)
	if err != nil {
		return nil, false, err
	}
	w, err := DecodeWelcome(p)
	if err != nil {
		return nil, false, err
	}
	if w.Version < MinVersion || w.Version > MaxVersion {
		return nil, false, fmt.Errorf("receiver chose protocol version %d, this sender speaks %d to %d: %w", w.Version, MinVersion, MaxVersion, ErrVersion)
	}
	if sum == nil {
		return nil, false, nil
	}
	if p, err = ss.expect(TypeSummaryReply); err != nil {
		return nil, false, err
	}
	r, err := DecodeSummaryReply(p)
	if err != nil {
		return nil, false, err
	}
	n := len(sum.Known)
	send = make([]bool, n)
	if r.Match {
		all := true
		for b, k := range sum.Known {
			send[b] = !k
			all = all && k
		}
		if !all {
			return send, false, nil
		}
		if p, err = ss.expect(TypeCommitted); err != nil {
			return nil, false, err
		}
		if ss.res.Committed, err = DecodeCommitted(p); err != nil {
			return nil, false, err
		}
		return send, true, nil
	}
	if len(r.Have) != n {
		return nil, false, fmt.Errorf("summary reply for %d buckets, sent %d: %w", len(r.Have), n, ErrProtocol)
	}
	keep := make([]bool, n)
	for b := range keep {
		keep[b] = sum.Known[b] && r.Have[b] && r.Digest[b] == sum.Digest[b]
		send[b] = !keep[b]
	}
	if err := ss.fw.WriteFrame(TypeKeep, Keep{Buckets: keep}.Append(nil)); err != nil {
		return nil, false, fmt.Errorf("send keep: %w", err)
	}
	return send, false, nil
}

// expect reads the next frame, which must be of type t or an error.
func (ss *sendSession) expect(t Type) ([]byte, error) {
	got, p, err := ss.fr.ReadFrame()
	if err != nil {
		return nil, fmt.Errorf("read %v: %w", t, err)
	}
	switch got {
	case t:
		return p, nil
	case TypeError:
		m, err := DecodeError(p)
		if err != nil {
			return nil, err
		}
		return nil, &RemoteError{Code: m.Code, Message: m.Message}
	}
	return nil, fmt.Errorf("expected %v, got %v: %w", t, got, ErrProtocol)
}

// PlanItems returns the entries of a plan in the order a session offers
// them. Directories go last, with the last class: their modes and times are
// applied at the commit, and the receiver creates parents as needed.
func PlanItems(plan prioritize.Plan) []prioritize.Item {
	items := make([]prioritize.Item, 0, len(plan.Items)+len(plan.Dirs))
	items = append(items, plan.Items...)
	for _, d := range plan.Dirs {
		items = append(items, prioritize.Item{Entry: d, Class: prioritize.Bulk, Reason: "directory"})
	}
	return items
}

// ProbeFor returns the probe that asks whether a hub holds items as they
// are, if hc knows the hash of every one of them without reading a file.
func ProbeFor(items []prioritize.Item, hc HashCache) (Probe, bool) {
	sum, _ := summarize(items, hc)
	if sum == nil || !all(sum.Known) {
		return Probe{}, false
	}
	return Probe{Entries: sum.Entries, Buckets: len(sum.Known), Root: sum.Root}, true
}

func all(v []bool) bool {
	for _, x := range v {
		if !x {
			return false
		}
	}
	return true
}

// summarize digests the plan's buckets whose hashes hc knows without
// reading files. It returns nil when it knows none (a first run), and the
// bucket of each item.
func summarize(items []prioritize.Item, hc HashCache) (*Summary, []int) {
	if hc == nil || len(items) == 0 {
		return nil, nil
	}
	n := BucketCount(len(items))
	sum := &Summary{Entries: uint64(len(items)), Known: make([]bool, n), Digest: make([][8]byte, n)}
	buckets := make([]int, len(items))
	metas := make([][]Meta, n)
	for i := range sum.Known {
		sum.Known[i] = true
	}
	for i := range items {
		it := &items[i]
		b := BucketOf(it.Path, n)
		buckets[i] = b
		if !sum.Known[b] {
			continue
		}
		m := Meta{Path: it.Path, Kind: it.Kind, Size: it.Size, Mode: uint32(it.Mode.Perm()), MTime: it.ModTime.UnixNano(), Target: it.Target}
		if it.Kind != scan.Dir {
			h, ok := hc.Cached(it.Entry)
			if !ok {
				sum.Known[b] = false
				continue
			}
			m.Hash = h
		}
		metas[b] = append(metas[b], m)
	}
	known := false
	for b := range metas {
		if sum.Known[b] {
			sum.Digest[b] = BucketDigest(metas[b])
			known = true
		}
	}
	if !known {
		return nil, nil
	}
	sum.Root = SummaryRoot(sum.Known, sum.Digest)
	return sum, buckets
}

// skipUnchanged drops the items of buckets the receiver holds as they are,
// reporting each as done.
func (ss *sendSession) skipUnchanged(items []prioritize.Item, buckets []int, send []bool) []prioritize.Item {
	out := items[:0:0]
	for i := range items {
		if send[buckets[i]] {
			out = append(out, items[i])
			continue
		}
		ss.res.Unchanged++
		ss.entryDone(&items[i])
		ss.cfg.Events(Event{Kind: EventDone, Item: &items[i], Skipped: true})
	}
	return out
}

func (ss *sendSession) readLoop() {
	for {
		t, p, err := ss.fr.ReadFrame()
		if err != nil {
			ss.in.push(inMsg{err: fmt.Errorf("read from receiver: %w", err)})
			return
		}
		m := inMsg{t: t}
		switch t {
		case TypeReply:
			m.msg, m.err = DecodeReply(p)
		case TypeDone:
			m.msg, m.err = DecodeStatus(t, p)
		case TypeCommitted:
			m.msg, m.err = DecodeCommitted(p)
		case TypeBasis:
			m.msg, m.err = DecodeBasis(p)
		case TypeBlockList:
			m.msg, m.err = DecodeBlockList(p)
		case TypeError:
			var em ErrorMsg
			if em, m.err = DecodeError(p); m.err == nil {
				m.err = &RemoteError{Code: em.Code, Message: em.Message}
			}
		default:
			m.err = fmt.Errorf("unexpected %v frame from receiver: %w", t, ErrProtocol)
		}
		ss.in.push(m)
		if m.err != nil || t == TypeCommitted {
			return
		}
	}
}

func (ss *sendSession) loop(ctx context.Context, hashes <-chan hashed) error {
	committing := false
	for {
		if err := ctx.Err(); err != nil {
			// Stop at a chunk boundary: nothing half-framed is written.
			return context.Cause(ctx)
		}
		for _, m := range ss.in.drain() {
			if m.err != nil {
				return m.err
			}
			if c, ok := m.msg.(Committed); ok {
				if !committing {
					return fmt.Errorf("commit reported before it was asked for: %w", ErrProtocol)
				}
				ss.res.Committed = c
				return nil
			}
			if err := ss.handle(m.msg); err != nil {
				return err
			}
		}
		if committing {
			if err := ss.wait(ctx); err != nil {
				return err
			}
			continue
		}
		// Offer while the window has room and hashes are ready.
		offered := false
		for hashes != nil && len(ss.window) < ss.cfg.Window {
			select {
			case h, ok := <-hashes:
				if !ok {
					hashes = nil
					continue
				}
				if err := ss.offer(h); err != nil {
					return err
				}
				offered = true
				continue
			default:
			}
			break
		}
		if p := ss.head(); p != nil {
			if err := ss.sendChunk(p); err != nil {
				return err
			}
			continue
		}
		if hashes == nil && len(ss.window) == 0 {
			if err := ss.commit(); err != nil {
				return err
			}
			committing = true
			continue
		}
		if offered {
			continue
		}
		var hc <-chan hashed
		if len(ss.window) < ss.cfg.Window {
			hc = hashes
		}
		if err := ss.flush(); err != nil {
			return err
		}
		select {
		case <-ss.in.notify:
		case h, ok := <-hc:
			if !ok {
				hashes = nil
				continue
			}
			if err := ss.offer(h); err != nil {
				return err
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// wait flushes and blocks until a message arrives.
func (ss *sendSession) wait(ctx context.Context) error {
	if err := ss.flush(); err != nil {
		return err
	}
	select {
	case <-ss.in.notify:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (ss *sendSession) flush() error {
	if err := ss.fw.Flush(); err != nil {
		return fmt.Errorf("write to receiver: %w", err)
	}
	return nil
}

// head returns the first entry whose bytes are wanted and not yet all sent.
// Files go strictly one after another, in plan order.
func (ss *sendSession) head() *pending {
	for _, p := range ss.window {
		if p.item.Kind != scan.File || p.item.Size == 0 {
			continue // never needs data; its reply may wait for earlier files
		}
		if !p.replied || p.awaitBasis || p.awaitBlocks {
			return nil
		}
		if p.f != nil && !p.sent {
			return p
		}
	}
	return nil
}

func (ss *sendSession) offer(h hashed) error {
	it := h.item
	if h.err != nil {
		ss.fail(it, fmt.Errorf("hash: %w", h.err))
		return nil
	}
	// A name the receiver would refuse (a backslash, a control character,
	// not UTF-8) fails alone instead of ending the session.
	err := ValidPath(it.Path)
	if err == nil && it.Kind == scan.Symlink {
		err = ValidLinkTarget(it.Path, it.Target)
	}
	if err != nil {
		ss.fail(it, fmt.Errorf("cannot be sent: %w", err))
		return nil
	}
	ss.nextID++
	p := &pending{id: ss.nextID, item: it, hash: h.sum}
	o := Offer{
		ID:      p.id,
		Kind:    it.Kind,
		Class:   uint8(it.Class),
		Path:    it.Path,
		Size:    it.Size,
		Mode:    uint32(it.Mode.Perm()),
		ModTime: it.ModTime.UnixNano(),
		Hash:    h.sum,
		Target:  it.Target,
	}
	ss.scratch = o.Append(ss.scratch[:0])
	if err := ss.fw.WriteFrame(TypeOffer, ss.scratch); err != nil {
		return fmt.Errorf("offer %s: %w", it.Path, err)
	}
	ss.res.Entries++
	ss.window = append(ss.window, p)
	ss.byID[p.id] = p
	return nil
}

func (ss *sendSession) handle(msg any) error {
	switch m := msg.(type) {
	case Reply:
		p := ss.byID[m.ID]
		if p == nil || p.replied {
			return fmt.Errorf("reply for entry %d that is not waiting for one: %w", m.ID, ErrProtocol)
		}
		p.replied = true
		if m.Action == Skip {
			ss.resolve(p, nil, true)
			return nil
		}
		if p.item.Kind != scan.File || m.Offset >= p.item.Size || (m.Action == Delta && m.Offset != 0) {
			return fmt.Errorf("receiver asked for %s from offset %d of %d: %w", p.item.Path, m.Offset, p.item.Size, ErrProtocol)
		}
		if m.Action == Delta {
			p.awaitBasis = true // the basis frame follows
			return nil
		}
		f, err := ss.src.Open(p.item.Entry)
		if err != nil {
			ss.abandon(p, CodeUnreadable, fmt.Errorf("open: %w", err))
			return nil
		}
		p.f, p.offset, p.start = f, m.Offset, m.Offset
		if m.Offset == 0 {
			p.h = blake3.New()
		}
		ss.cfg.Events(Event{Kind: EventStart, Item: p.item, Offset: m.Offset})
	case Basis:
		p := ss.byID[m.ID]
		if p == nil || !p.awaitBasis {
			return fmt.Errorf("basis for entry %d, which is not waiting for one: %w", m.ID, ErrProtocol)
		}
		p.awaitBasis = false
		f, err := ss.src.Open(p.item.Entry)
		if err != nil {
			ss.abandon(p, CodeUnreadable, fmt.Errorf("open: %w", err))
			return nil
		}
		plan, missing, err := matchGroups(io.NewSectionReader(f, 0, p.item.Size), &m)
		if err != nil {
			f.Close()
			ss.abandon(p, CodeUnreadable, fmt.Errorf("read for delta: %w", err))
			return nil
		}
		p.f, p.delta, p.basis = f, plan, m
		if len(missing) > 0 {
			// Ask for the blocks around the changes; send when they come.
			p.awaitBlocks = true
			return ss.fw.WriteFrame(TypeNeed, Need{ID: p.id, Groups: missing}.Append(nil))
		}
		p.ops = plan.ops()
		ss.cfg.Events(Event{Kind: EventStart, Item: p.item})
	case BlockList:
		p := ss.byID[m.ID]
		if p == nil || !p.awaitBlocks {
			return fmt.Errorf("block list for entry %d, which is not waiting for one: %w", m.ID, ErrProtocol)
		}
		p.awaitBlocks = false
		if err := p.delta.matchBlocks(io.NewSectionReader(p.f, 0, p.item.Size), p.basis.Avg, p.basis.Group, &m); err != nil {
			ss.abandon(p, CodeUnreadable, fmt.Errorf("read for delta: %w", err))
			return nil
		}
		p.ops = p.delta.ops()
		ss.cfg.Events(Event{Kind: EventStart, Item: p.item})
	case Status:
		p := ss.byID[m.ID]
		if p == nil && ss.abandoned[m.ID] {
			// The receiver refused a file this sender had already given
			// up; the two crossed on the wire.
			delete(ss.abandoned, m.ID)
			return nil
		}
		if p == nil || (p.f == nil && !p.sent) {
			return fmt.Errorf("done for entry %d, which is not being sent: %w", m.ID, ErrProtocol)
		}
		if !p.sent {
			// Refused mid-file (a chunk did not check): stop, and confirm
			// with an abandon so the receiver expects no more of it.
			if m.Code == CodeOK {
				return fmt.Errorf("done for %s before its last chunk: %w", p.item.Path, ErrProtocol)
			}
			ss.abandon(p, m.Code, m.Err())
			return nil
		}
		ss.resolve(p, m.Err(), false)
	}
	return nil
}

func (ss *sendSession) sendChunk(p *pending) error {
	ss.lastChunk = ss.chunkSize()
	n := int(min(int64(ss.lastChunk), p.item.Size-p.offset))
	if p.ops != nil {
		op := &p.ops[0]
		if op.copy {
			c := Copy{ID: p.id, Offset: op.off, Index: op.index, Count: op.count}
			if err := ss.fw.WriteFrame(TypeCopy, c.Append(ss.scratch[:0])); err != nil {
				return fmt.Errorf("send %s: %w", p.item.Path, err)
			}
			p.ops = p.ops[1:]
			ss.res.CopiedBytes += op.n
			return ss.sent(p, op.n)
		}
		n = int(min(int64(n), op.n))
		if op.n -= int64(n); op.n == 0 {
			p.ops = p.ops[1:]
		} else {
			op.off += int64(n)
		}
	}
	data := ss.buf[:n]
	if _, err := p.f.ReadAt(data, p.offset); err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("file shrank below %d bytes: %w", p.item.Size, ErrChanged)
		}
		ss.abandon(p, CodeOf(err), err)
		return nil
	}
	c := Chunk{ID: p.id, Offset: p.offset, Size: n, Hash: blake3.Sum256(data)}
	if ss.cfg.LinkRate != nil {
		ss.zstd.setRate(ss.cfg.LinkRate())
	}
	c.Data, c.Compressed = ss.zstd.compress(data, &p.fails)
	ss.scratch = c.AppendHeader(ss.scratch[:0])
	if err := ss.fw.WriteFrame(TypeChunk, ss.scratch, c.Data); err != nil {
		return fmt.Errorf("send %s: %w", p.item.Path, err)
	}
	ss.res.DataBytes += int64(len(c.Data))
	if p.h != nil {
		p.h.Write(data)
	}
	ss.res.PayloadBytes += int64(n)
	return ss.sent(p, int64(n))
}

// sent accounts for n bytes of p put on the stream (as data or a copy).
func (ss *sendSession) sent(p *pending, n int64) error {
	p.offset += n
	ss.cfg.Events(Event{Kind: EventProgress, Item: p.item, Bytes: n})
	if p.offset == p.item.Size {
		p.sent = true
		ss.res.FilesSent++
		p.f.Close()
		p.f = nil
	}
	return nil
}

// abandon tells the receiver that a file will not be completed.
func (ss *sendSession) abandon(p *pending, code Code, err error) {
	if p.f != nil {
		p.f.Close()
		p.f = nil
	}
	if code == CodeInternal || code == CodeOK {
		code = CodeUnreadable
	}
	ss.scratch = Status{ID: p.id, Code: code, Message: err.Error()}.Append(ss.scratch[:0])
	// A write error here resurfaces on the next write.
	_ = ss.fw.WriteFrame(TypeAbandon, ss.scratch)
	if ss.abandoned == nil {
		ss.abandoned = make(map[uint64]bool)
	}
	ss.abandoned[p.id] = true
	ss.resolve(p, err, false)
}

func (ss *sendSession) resolve(p *pending, err error, skipped bool) {
	if p.sent && (p.h != nil || errors.Is(err, ErrHashMismatch)) && ss.changed(p) {
		// The receiver checks what it got against the offered hash, so
		// it refused these bytes; say why they differed.
		err = fmt.Errorf("content changed while it was sent (offered %v): %w", p.hash, ErrChanged)
	}
	for i, w := range ss.window {
		if w == p {
			ss.window = append(ss.window[:i], ss.window[i+1:]...)
			break
		}
	}
	delete(ss.byID, p.id)
	if err != nil {
		ss.fail(p.item, err)
		return
	}
	ss.entryDone(p.item)
	ss.cfg.Events(Event{Kind: EventDone, Item: p.item, Bytes: p.offset - p.start, Skipped: skipped})
}

// changed reports whether p's content is not what was offered: from the
// hash of what was sent when it was sent whole, else by reading the file
// again (only after the receiver refused it).
func (ss *sendSession) changed(p *pending) bool {
	var sum scan.Sum
	if p.h != nil {
		p.h.Sum(sum[:0])
		return sum != p.hash
	}
	f, err := ss.src.Open(p.item.Entry)
	if err != nil {
		return true
	}
	defer f.Close()
	h := blake3.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return true
	}
	h.Sum(sum[:0])
	return sum != p.hash
}

func (ss *sendSession) fail(it *prioritize.Item, err error) {
	ss.res.Failed = append(ss.res.Failed, FileError{Path: it.Path, Err: err})
	ss.entryDone(it)
	ss.cfg.Events(Event{Kind: EventDone, Item: it, Err: err})
}

func (ss *sendSession) entryDone(it *prioritize.Item) {
	if it.Class == prioritize.Critical {
		ss.critLeft--
		if ss.critLeft == 0 {
			ss.res.CriticalDone = time.Now()
		}
	}
}

func (ss *sendSession) commit() error {
	c := Commit{Entries: ss.nextID, Complete: len(ss.res.Failed) == 0}
	if err := ss.fw.WriteFrame(TypeCommit, c.Append(ss.scratch[:0])); err != nil {
		return fmt.Errorf("send commit: %w", err)
	}
	return ss.flush()
}
