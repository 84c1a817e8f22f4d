package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/scan"
)

// Sink is the storage behind a receiving session. Receive calls it from one
// goroutine, only with frames that passed every check of the protocol: paths
// are valid, chunks are in order, inside the offered size and match their
// hash. Errors from a Sink end the session, except those that Finish
// returns and the *EntryError of Offer, which end only that entry.
type Sink interface {
	// Head returns the sequence of the last committed manifest, 0 if none.
	Head() uint64
	// Offer decides whether to take an entry. Entries without bytes to
	// transfer (directories, symlinks, empty files, files it already holds)
	// are applied or noted here and answered with Skip. An *EntryError
	// refuses the entry alone (see EntryError).
	Offer(ctx context.Context, o *Offer) (Reply, error)
	// Write stores bytes of a file that Offer asked for, in order; sum is
	// their BLAKE3, already checked.
	Write(ctx context.Context, o *Offer, offset int64, data []byte, sum scan.Sum) error
	// Finish checks a file whose bytes all arrived against o.Hash and
	// places it durably. An error refuses this file only.
	Finish(ctx context.Context, o *Offer) error
	// Abandon discards what was staged of a file the sender gave up on
	// (err says why) or whose bytes did not check.
	Abandon(ctx context.Context, o *Offer, err error)
	// Commit writes the restore point after every offer was resolved.
	Commit(ctx context.Context, c Commit) (Committed, error)
}

// EntryError is an error of Sink.Offer that refuses that entry alone: the
// session goes on without it. A file with data is answered with send and
// refused at once with done and the error's code, as a file whose chunk
// fails its hash is; the sender stops and confirms with abandon. An entry
// without data (a directory, a symlink, an empty file) cannot be refused
// on the wire: it is answered with skip, and the sink, which did not apply
// it, must count it as not received.
type EntryError struct {
	Err error
}

func (e *EntryError) Error() string { return e.Err.Error() }
func (e *EntryError) Unwrap() error { return e.Err }

// ClassDoner is an optional Sink interface: ClassDone is called once per
// priority class when every entry of that class was offered and resolved
// (placed, found present, or refused) and a later class has begun. The
// classes still open at the commit are covered by the commit itself.
type ClassDoner interface {
	ClassDone(ctx context.Context, class uint8) error
}

// Batcher is an optional Sink interface for making files durable in
// batches. Finish of a batching Sink only checks and queues a file; Flush
// makes the queued files durable and places them, and returns the files
// that failed alone (by offer ID). Receive reports a file done only after
// the Flush that placed it, and flushes before it would wait for input,
// after maxBatch files, and before a commit.
type Batcher interface {
	Flush(ctx context.Context) (map[uint64]error, error)
}

// Idler is an optional Sink interface: Idle is called whenever Receive is
// about to wait for the next frame, so that nothing received sits
// unjournaled while the link is slow or idle.
type Idler interface {
	Idle(ctx context.Context) error
}

// maxBatch bounds the files waiting for a Flush.
const maxBatch = 64

// MaxOutstanding bounds the offers a receiver holds waiting for their data
// (or for earlier files), far above a sender's window, so that a peer that
// offers without ever sending cannot exhaust the receiver's memory.
const MaxOutstanding = 4096

// incoming is a file whose bytes are expected.
type incoming struct {
	offer  Offer
	next   int64
	failed bool // refused; its remaining chunks are dropped
	// For a delta: the receiver's blocks and where each starts in its
	// version (one more entry: the end).
	blocks   *Blocks
	blockOff []int64
	listed   bool // a block list was sent: at most one per file
}

// DeltaSink is an optional Sink interface for delta transfer: a Sink that
// answers offers with Delta must implement it. Copy appends blocks
// [index, index+count) of its own version of o's path, which start at
// offset from in that version, to the file being built, after checking
// them against their sums in b; if they changed since, it returns an error
// wrapping ErrChanged, which refuses the file.
type DeltaSink interface {
	Copy(ctx context.Context, o *Offer, b *Blocks, from int64, index, count int) error
}

// Receive serves one session on rw with sink behind it. It returns nil after
// the commit was reported to the sender. A protocol violation or a sink
// failure is reported to the sender as an error frame and returned.
func Receive(ctx context.Context, rw io.ReadWriter, sink Sink) error {
	return ReceiveWith(ctx, rw, sink, ReceiveConfig{})
}

// ReceiveConfig configures ReceiveWith. The zero value works.
type ReceiveConfig struct {
	// FrameTimeout, if set and rw has SetReadDeadline, ends the session
	// when a frame does not arrive whole within it: a peer trickling a
	// byte at a time keeps a connection alive, not a session.
	FrameTimeout time.Duration
}

// ReceiveWith is Receive with a configuration.
func ReceiveWith(ctx context.Context, rw io.ReadWriter, sink Sink, cfg ReceiveConfig) error {
	rs := &recvSession{
		cfg:    cfg,
		rw:     rw,
		fw:     NewFrameWriter(rw),
		fr:     NewFrameReader(rw),
		sink:   sink,
		wanted: make(map[uint64]*incoming),
		paths:  make(map[string]bool),
	}
	err := rs.run(ctx)
	rs.zstd.close()
	if err != nil {
		var re *RemoteError
		if !errors.As(err, &re) {
			m := ErrorMsg{Code: CodeOf(err), Message: err.Error()}
			if rs.fw.WriteFrame(TypeError, m.Append(nil)) == nil {
				rs.fw.Flush()
			}
		}
	}
	return err
}

type recvSession struct {
	cfg     ReceiveConfig
	rw      io.ReadWriter
	fw      *FrameWriter
	fr      *FrameReader
	sink    Sink
	lastID  uint64
	wanted  map[uint64]*incoming
	current *incoming // the file whose chunks are arriving
	zstd    decompressor
	// flushing holds the files finished and waiting for a Batcher flush.
	flushing   []*incoming
	summarized bool // a summary came (only before the first offer)
	keepNext   bool // a keep must come next, after a reply without a match
	have       []bool
	// deferred holds data-less entries waiting for earlier files.
	deferred []Offer
	// Per class: entries offered and entries resolved; the highest class
	// offered; classes reported done.
	offered, resolved [3]int
	maxClass          uint8
	classesDone       int
	paths             map[string]bool
	scratch           []byte
}

func (rs *recvSession) run(ctx context.Context) error {
	if err := rs.handshake(); err != nil {
		return err
	}
	var last Type
	for {
		if !rs.fr.frameReady() {
			// About to wait for the network: make durable what arrived.
			if err := rs.flushBatch(ctx); err != nil {
				return err
			}
			if id, ok := rs.sink.(Idler); ok {
				if err := id.Idle(ctx); err != nil {
					return fmt.Errorf("sync before waiting: %w", err)
				}
			}
		}
		// Answers go out at once, except that replies to a run of offers
		// already read are sent together.
		if last != TypeOffer || rs.fr.r.Buffered() == 0 {
			if err := rs.fw.Flush(); err != nil {
				return fmt.Errorf("write to sender: %w", err)
			}
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrCanceled, context.Cause(ctx))
		}
		rs.deadline()
		t, p, err := rs.fr.ReadFrame()
		last = t
		if err != nil {
			if err == io.EOF {
				return fmt.Errorf("sender closed the stream before commit: %w", ErrTruncated)
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return fmt.Errorf("no whole frame from the sender in %v: %w", rs.cfg.FrameTimeout, ErrCanceled)
			}
			return fmt.Errorf("read from sender: %w", err)
		}
		if rs.keepNext && t != TypeKeep && t != TypeError {
			return fmt.Errorf("expected keep after summary reply, got %v: %w", t, ErrProtocol)
		}
		switch t {
		case TypeSummary:
			var done bool
			if done, err = rs.summary(ctx, p); done && err == nil {
				return nil
			}
		case TypeKeep:
			err = rs.keep(p)
		case TypeOffer:
			err = rs.offer(ctx, p)
		case TypeChunk:
			err = rs.chunk(ctx, p)
		case TypeCopy:
			err = rs.copyBlocks(ctx, p)
		case TypeNeed:
			err = rs.need(p)
		case TypeAbandon:
			err = rs.abandon(ctx, p)
		case TypeCommit:
			return rs.commit(ctx, p)
		case TypeError:
			m, derr := DecodeError(p)
			if derr != nil {
				return derr
			}
			return &RemoteError{Code: m.Code, Message: m.Message}
		default:
			err = fmt.Errorf("unexpected %v frame from sender: %w", t, ErrProtocol)
		}
		if err != nil {
			return err
		}
	}
}

// deadline gives the next frame FrameTimeout to arrive.
func (rs *recvSession) deadline() {
	if d, ok := rs.rw.(interface{ SetReadDeadline(time.Time) error }); ok && rs.cfg.FrameTimeout > 0 {
		d.SetReadDeadline(time.Now().Add(rs.cfg.FrameTimeout))
	}
}

func (rs *recvSession) handshake() error {
	rs.deadline()
	t, p, err := rs.fr.ReadFrame()
	if err != nil {
		return fmt.Errorf("read hello: %w", err)
	}
	if t != TypeHello {
		return fmt.Errorf("expected hello, got %v: %w", t, ErrProtocol)
	}
	h, err := DecodeHello(p)
	if err != nil {
		return err
	}
	v := min(h.MaxVersion, MaxVersion)
	if v < h.MinVersion || v < MinVersion {
		return fmt.Errorf("sender speaks protocol versions %d to %d, this receiver %d to %d: %w",
			h.MinVersion, h.MaxVersion, MinVersion, MaxVersion, ErrVersion)
	}
	return rs.fw.WriteFrame(TypeWelcome, Welcome{Version: v, Head: rs.sink.Head()}.Append(nil))
}

// summary answers the sender's digest of its plan; it may only come first.
// When the receiver holds every entry of the plan as it is, it commits at
// once and the session is done.
func (rs *recvSession) summary(ctx context.Context, p []byte) (done bool, err error) {
	if rs.lastID != 0 || rs.summarized {
		return false, fmt.Errorf("summary after the first offer or twice: %w", ErrProtocol)
	}
	rs.summarized = true
	s, err := DecodeSummary(p)
	if err != nil {
		return false, err
	}
	n := len(s.Known)
	digest, have := make([][8]byte, n), make([]bool, n)
	sz, ok := rs.sink.(Summarizer)
	if ok {
		if digest, have, err = sz.Digests(&s); err != nil {
			return false, fmt.Errorf("compare summary: %w", err)
		}
		if len(digest) != n || len(have) != n {
			return false, fmt.Errorf("compare summary: %d answers for %d buckets: %w", len(have), n, ErrInternal)
		}
	}
	match := ok
	all := true
	for b, k := range s.Known {
		match = match && (!k || have[b])
		all = all && k
	}
	if match && SummaryRoot(s.Known, digest) == s.Root {
		sz.Keep(s.Known)
		if err := rs.fw.WriteFrame(TypeSummaryReply, SummaryReply{Match: true}.Append(nil)); err != nil {
			return false, err
		}
		if !all {
			return false, nil
		}
		return true, rs.commit(ctx, Commit{Complete: true}.Append(nil))
	}
	for b, k := range s.Known {
		have[b] = have[b] && k
	}
	rs.have, rs.keepNext = have, true
	return false, rs.fw.WriteFrame(TypeSummaryReply, SummaryReply{Have: have, Digest: digest}.Append(nil))
}

// keep carries over the buckets the sender found unchanged after a summary
// reply without a match.
func (rs *recvSession) keep(p []byte) error {
	if !rs.keepNext {
		return fmt.Errorf("keep without a summary reply that asked for it: %w", ErrProtocol)
	}
	rs.keepNext = false
	k, err := DecodeKeep(p)
	if err != nil {
		return err
	}
	if len(k.Buckets) != len(rs.have) {
		return fmt.Errorf("keep of %d buckets, summary had %d: %w", len(k.Buckets), len(rs.have), ErrProtocol)
	}
	for b, keep := range k.Buckets {
		if keep && !rs.have[b] {
			return fmt.Errorf("keep of bucket %d, which this receiver does not hold: %w", b, ErrProtocol)
		}
	}
	if sz, ok := rs.sink.(Summarizer); ok {
		sz.Keep(k.Buckets)
	}
	return nil
}

func (rs *recvSession) offer(ctx context.Context, p []byte) error {
	o, err := DecodeOffer(p)
	if err != nil {
		return err
	}
	if o.ID != rs.lastID+1 {
		return fmt.Errorf("offer %d after offer %d: %w", o.ID, rs.lastID, ErrProtocol)
	}
	rs.lastID = o.ID
	if rs.paths[o.Path] {
		return fmt.Errorf("path %q offered twice: %w", o.Path, ErrProtocol)
	}
	if len(rs.wanted)+len(rs.deferred) >= MaxOutstanding {
		return fmt.Errorf("more than %d offers waiting for data: %w", MaxOutstanding, ErrProtocol)
	}
	rs.paths[o.Path] = true
	rs.offered[o.Class]++
	rs.maxClass = max(rs.maxClass, o.Class)
	// The first offer of a later class may close the earlier ones.
	if err := rs.classesComplete(ctx); err != nil {
		return err
	}
	if o.Kind != scan.File || o.Size == 0 {
		// Entries without data are applied when offered; to keep the
		// plan's order of placement they wait for the files offered
		// before them.
		rs.deferred = append(rs.deferred, o)
		return rs.applyDeferred(ctx)
	}
	return rs.decide(ctx, &o)
}

// applyDeferred offers the sink the data-less entries that no incomplete
// file precedes.
func (rs *recvSession) applyDeferred(ctx context.Context) error {
	for len(rs.deferred) > 0 {
		o := &rs.deferred[0]
		for id := range rs.wanted {
			if id < o.ID {
				return nil
			}
		}
		if len(rs.flushing) > 0 {
			return nil // earlier files are not placed yet
		}
		if err := rs.decide(ctx, o); err != nil {
			return err
		}
		rs.deferred = rs.deferred[1:]
	}
	return nil
}

func (rs *recvSession) decide(ctx context.Context, o *Offer) error {
	r, err := rs.sink.Offer(ctx, o)
	var refused *EntryError
	if errors.As(err, &refused) {
		return rs.refuseOffer(ctx, o, refused.Err)
	}
	if err != nil {
		return fmt.Errorf("offer %s: %w", o.Path, err)
	}
	r.ID = o.ID
	switch r.Action {
	case Send:
		if o.Size == 0 || r.Offset >= o.Size {
			return fmt.Errorf("offer %s: storage asked for data from %d of %d: %w", o.Path, r.Offset, o.Size, ErrInternal)
		}
		rs.wanted[o.ID] = &incoming{offer: *o, next: r.Offset}
	case Delta:
		if o.Size == 0 || r.Offset != 0 || r.Blocks == nil || len(r.Blocks.Lens) == 0 {
			return fmt.Errorf("offer %s: storage asked for a delta without a basis: %w", o.Path, ErrInternal)
		}
		in := &incoming{offer: *o, blocks: r.Blocks, blockOff: make([]int64, len(r.Blocks.Lens)+1)}
		for i, n := range r.Blocks.Lens {
			in.blockOff[i+1] = in.blockOff[i] + int64(n)
		}
		rs.wanted[o.ID] = in
	}
	rs.scratch = r.Append(rs.scratch[:0])
	if err := rs.fw.WriteFrame(TypeReply, rs.scratch); err != nil {
		return err
	}
	if r.Action == Delta {
		if err := rs.fw.WriteFrame(TypeBasis, basisOf(o.ID, r.Blocks).Append(nil)); err != nil {
			return err
		}
	}
	if r.Action == Skip {
		return rs.resolve(ctx, o.Class)
	}
	return nil
}

// refuseOffer answers an offer the sink refused alone, with err (see
// EntryError).
func (rs *recvSession) refuseOffer(ctx context.Context, o *Offer, err error) error {
	if o.Kind != scan.File || o.Size == 0 {
		rs.scratch = Reply{ID: o.ID, Action: Skip}.Append(rs.scratch[:0])
		if err := rs.fw.WriteFrame(TypeReply, rs.scratch); err != nil {
			return err
		}
		return rs.resolve(ctx, o.Class)
	}
	// Its chunks, if the sender sends any before it reads the done, are
	// dropped; its abandon (or its last chunk) resolves it.
	rs.wanted[o.ID] = &incoming{offer: *o, failed: true}
	rs.scratch = Reply{ID: o.ID, Action: Send}.Append(rs.scratch[:0])
	if err := rs.fw.WriteFrame(TypeReply, rs.scratch); err != nil {
		return err
	}
	return rs.done(o.ID, err)
}

// resolve counts an entry of class as resolved and reports the classes
// that are complete.
func (rs *recvSession) resolve(ctx context.Context, class uint8) error {
	rs.resolved[class]++
	return rs.classesComplete(ctx)
}

func (rs *recvSession) classesComplete(ctx context.Context) error {
	cd, ok := rs.sink.(ClassDoner)
	for rs.classesDone < int(rs.maxClass) {
		c := rs.classesDone
		if rs.resolved[c] != rs.offered[c] {
			return nil
		}
		rs.classesDone++
		if ok && rs.offered[c] > 0 {
			if err := cd.ClassDone(ctx, uint8(c)); err != nil {
				return fmt.Errorf("class %d done: %w", c, err)
			}
		}
	}
	return nil
}

// expecting returns the incoming file id, which must be the one whose
// data is arriving, with its data at offset next.
func (rs *recvSession) expecting(what string, id uint64, offset int64) (*incoming, error) {
	in := rs.wanted[id]
	if in == nil {
		return nil, fmt.Errorf("%s for entry %d, which is not expecting data: %w", what, id, ErrProtocol)
	}
	if rs.current != nil && rs.current != in {
		return nil, fmt.Errorf("%s for %q while %q is incomplete: %w", what, in.offer.Path, rs.current.offer.Path, ErrProtocol)
	}
	if offset != in.next {
		return nil, fmt.Errorf("%s of %q at offset %d, expected %d: %w", what, in.offer.Path, offset, in.next, ErrProtocol)
	}
	rs.current = in
	return in, nil
}

func (rs *recvSession) chunk(ctx context.Context, p []byte) error {
	c, err := DecodeChunk(p)
	if err != nil {
		return err
	}
	in, err := rs.expecting("chunk", c.ID, c.Offset)
	if err != nil {
		return err
	}
	o := &in.offer
	if int64(c.Size) > o.Size-c.Offset {
		return fmt.Errorf("chunk of %q ends at %d, beyond its size %d: %w", o.Path, c.Offset+int64(c.Size), o.Size, ErrProtocol)
	}
	data := c.Data
	if c.Compressed {
		if data, err = rs.zstd.decompress(&c); err != nil {
			return fmt.Errorf("chunk of %q: %w", o.Path, err)
		}
	}
	if !in.failed {
		if scan.Sum(blake3.Sum256(data)) != c.Hash {
			if err := rs.refuse(ctx, in, fmt.Errorf("chunk of %q at offset %d: %w", o.Path, c.Offset, ErrHashMismatch)); err != nil {
				return err
			}
		} else if err := rs.sink.Write(ctx, o, c.Offset, data, c.Hash); err != nil {
			return fmt.Errorf("write %s: %w", o.Path, err)
		}
	}
	return rs.advance(ctx, in, int64(len(data)))
}

// copyBlocks builds part of a delta file from the receiver's own blocks.
func (rs *recvSession) copyBlocks(ctx context.Context, p []byte) error {
	c, err := DecodeCopy(p)
	if err != nil {
		return err
	}
	in, err := rs.expecting("copy", c.ID, c.Offset)
	if err != nil {
		return err
	}
	o := &in.offer
	b := in.blocks
	if b == nil || c.Index+c.Count > len(b.Lens) {
		return fmt.Errorf("copy of %q: blocks %d+%d outside the basis: %w", o.Path, c.Index, c.Count, ErrProtocol)
	}
	n := in.blockOff[c.Index+c.Count] - in.blockOff[c.Index]
	if n > o.Size-c.Offset {
		return fmt.Errorf("copy of %q ends at %d, beyond its size %d: %w", o.Path, c.Offset+n, o.Size, ErrProtocol)
	}
	if !in.failed {
		ds, ok := rs.sink.(DeltaSink)
		if !ok {
			return fmt.Errorf("copy of %q without a basis: %w", o.Path, ErrInternal)
		}
		if err := ds.Copy(ctx, o, b, in.blockOff[c.Index], c.Index, c.Count); err != nil {
			if !errors.Is(err, ErrChanged) {
				return fmt.Errorf("copy into %s: %w", o.Path, err)
			}
			if err := rs.refuse(ctx, in, err); err != nil {
				return err
			}
		}
	}
	return rs.advance(ctx, in, n)
}

// flushBatch has the sink place the finished files, reports each done, and
// applies what waited for them.
func (rs *recvSession) flushBatch(ctx context.Context) error {
	if len(rs.flushing) == 0 {
		return nil
	}
	failed, err := rs.sink.(Batcher).Flush(ctx)
	if err != nil {
		return fmt.Errorf("place files: %w", err)
	}
	batch := rs.flushing
	rs.flushing = nil
	for _, in := range batch {
		if err := rs.done(in.offer.ID, failed[in.offer.ID]); err != nil {
			return err
		}
		if err := rs.resolve(ctx, in.offer.Class); err != nil {
			return err
		}
	}
	return rs.applyDeferred(ctx)
}

// need answers a sender's need with the block lists of the groups.
func (rs *recvSession) need(p []byte) error {
	m, err := DecodeNeed(p)
	if err != nil {
		return err
	}
	in := rs.wanted[m.ID]
	if in == nil || in.blocks == nil || in.next != 0 || in.listed {
		return fmt.Errorf("need for entry %d, which has no basis waiting: %w", m.ID, ErrProtocol)
	}
	in.listed = true
	l, err := blockList(m.ID, in.blocks, m.Groups)
	if err != nil {
		return err
	}
	return rs.fw.WriteFrame(TypeBlockList, l.Append(nil))
}

// refuse drops a file whose data did not check, tells the sender, and
// ignores the rest of its data.
func (rs *recvSession) refuse(ctx context.Context, in *incoming, err error) error {
	rs.sink.Abandon(ctx, &in.offer, err)
	in.failed = true
	return rs.done(in.offer.ID, err)
}

// advance accounts for n bytes of the current file and finishes it after
// its last byte.
func (rs *recvSession) advance(ctx context.Context, in *incoming, n int64) error {
	o := &in.offer
	in.next += n
	if in.next != o.Size {
		return nil
	}
	rs.current = nil
	delete(rs.wanted, o.ID)
	if !in.failed {
		_, batching := rs.sink.(Batcher)
		if batching && len(rs.deferred) > 0 && rs.deferred[0].ID < o.ID {
			// An entry offered before this file waits for the batch:
			// place the batch and it first, to keep the plan's order.
			if err := rs.flushBatch(ctx); err != nil {
				return err
			}
		}
		err := rs.sink.Finish(ctx, o)
		if batching && err == nil {
			rs.flushing = append(rs.flushing, in)
			if len(rs.flushing) >= maxBatch {
				return rs.flushBatch(ctx)
			}
			return nil
		}
		if err := rs.done(o.ID, err); err != nil {
			return err
		}
	}
	// Resolve the file before applying the entries that waited for it:
	// they may belong to the next class.
	if err := rs.resolve(ctx, o.Class); err != nil {
		return err
	}
	return rs.applyDeferred(ctx)
}

func (rs *recvSession) done(id uint64, err error) error {
	st := Status{ID: id, Code: CodeOf(err)}
	if err != nil {
		st.Message = err.Error()
	}
	rs.scratch = st.Append(rs.scratch[:0])
	return rs.fw.WriteFrame(TypeDone, rs.scratch)
}

func (rs *recvSession) abandon(ctx context.Context, p []byte) error {
	st, err := DecodeStatus(TypeAbandon, p)
	if err != nil {
		return err
	}
	in := rs.wanted[st.ID]
	if in == nil {
		return fmt.Errorf("abandon of entry %d, which is not expecting data: %w", st.ID, ErrProtocol)
	}
	if rs.current == in {
		rs.current = nil
	}
	delete(rs.wanted, st.ID)
	if !in.failed {
		rs.sink.Abandon(ctx, &in.offer, st.Err())
	}
	if err := rs.resolve(ctx, in.offer.Class); err != nil {
		return err
	}
	return rs.applyDeferred(ctx)
}

func (rs *recvSession) commit(ctx context.Context, p []byte) error {
	c, err := DecodeCommit(p)
	if err != nil {
		return err
	}
	if err := rs.flushBatch(ctx); err != nil {
		return err
	}
	if c.Entries != rs.lastID {
		return fmt.Errorf("commit of %d entries after %d offers: %w", c.Entries, rs.lastID, ErrProtocol)
	}
	if len(rs.wanted) != 0 || len(rs.deferred) != 0 {
		return fmt.Errorf("commit while %d files are incomplete: %w", len(rs.wanted), ErrProtocol)
	}
	done, err := rs.sink.Commit(ctx, c)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if err := rs.fw.WriteFrame(TypeCommitted, done.Append(nil)); err != nil {
		return err
	}
	return rs.fw.Flush()
}
