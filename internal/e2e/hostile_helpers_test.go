package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/quic-go/quic-go"
	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// hostileTimeout bounds every exchange with a hand-driven peer: on
// loopback each answer takes milliseconds, so a peer still waiting after
// this long is waiting for an answer that will not come.
const hostileTimeout = 5 * time.Second

// startHubAt runs a hub whose root is root (not a fresh temporary
// directory, so that a test can watch root's parent). stop cancels Serve
// and returns its error; it is safe to call more than once, and cleanup
// calls it and fails the test on an error.
func startHubAt(t *testing.T, root string, allow map[identity.ID]string) (h *hub, stop func() error) {
	t.Helper()
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	h = &hub{id: id, root: root, placed: &placedLog{}}
	rh := &receiver.Hub{
		Root:   root,
		Allow:  allow,
		Placed: h.placed.add,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	ln, err := transfer.Listen("127.0.0.1:0", id.ServerConfig(rh.Admit), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rh.Serve(ctx, ln) }()
	stop = sync.OnceValue(func() error {
		cancel()
		err := <-done
		ln.Close()
		return err
	})
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("hub: %v", err)
		}
	})
	return h, stop
}

// mustIdentity returns a fresh identity.
func mustIdentity(t *testing.T) *identity.Identity {
	t.Helper()
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// hostileSrcTree is a quick tree for the syncs that show a hub still serves: a
// file of two chunks (send uses 256 KiB chunks), a small one, a directory
// and a link.
func hostileSrcTree() []node {
	return []node{
		{path: "state/alarm.json", data: `{"alarm":"on"}`},
		{path: "logs/a.txt", size: 300 << 10},
		{path: "empty-dir", dir: true},
		{path: "current", link: "logs/a.txt"},
	}
}

// rawPeer is a sender driven frame by frame, for saying what no real
// sender says.
type rawPeer struct {
	t  *testing.T
	rw io.ReadWriter
	fw *transfer.FrameWriter
	fr *transfer.FrameReader
	// cut, for a peer over QUIC, drops the connection as a lost link
	// would.
	cut func()
}

func newRawPeer(t *testing.T, rw io.ReadWriter) *rawPeer {
	return &rawPeer{t: t, rw: rw, fw: transfer.NewFrameWriter(rw), fr: transfer.NewFrameReader(rw)}
}

// dialRaw connects dev to h and returns the peer before any frame is
// written. Every read is bounded by hostileTimeout: then the connection is
// closed and the read fails. Cleanup closes the connection.
func dialRaw(t *testing.T, h *hub, dev *identity.Identity) *rawPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hostileTimeout)
	conn, s, err := transfer.Dial(ctx, h.addr, dev.ClientConfig(h.id.ID), 0)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stopTimer := context.AfterFunc(ctx, func() { conn.CloseWithError(0, "test peer timed out") })
	t.Cleanup(func() {
		stopTimer()
		cancel()
		conn.CloseWithError(0, "")
	})
	p := newRawPeer(t, s)
	p.cut = func() { conn.CloseWithError(0x42, "link lost") }
	return p
}

// send writes one frame and flushes it. A write error is returned, not
// fatal: a receiver that ended the session may already have gone.
func (p *rawPeer) send(typ transfer.Type, parts ...[]byte) error {
	if err := p.fw.WriteFrame(typ, parts...); err != nil {
		return err
	}
	return p.fw.Flush()
}

// mustSend is send that fails the test on an error.
func (p *rawPeer) mustSend(typ transfer.Type, parts ...[]byte) {
	p.t.Helper()
	if err := p.send(typ, parts...); err != nil {
		p.t.Fatalf("send %v: %v", typ, err)
	}
}

// sendRaw writes bytes as they are, bypassing the frame writer's checks.
func (p *rawPeer) sendRaw(b []byte) {
	p.t.Helper()
	if err := p.fw.Flush(); err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.rw.Write(b); err != nil {
		p.t.Fatalf("write raw bytes: %v", err)
	}
}

// next reads one frame; its payload is copied.
func (p *rawPeer) next() (transfer.Type, []byte, error) {
	typ, b, err := p.fr.ReadFrame()
	return typ, bytes.Clone(b), err
}

// handshake sends hello for this build's versions and expects welcome.
func (p *rawPeer) handshake() transfer.Welcome {
	p.t.Helper()
	p.mustSend(transfer.TypeHello, transfer.Hello{MinVersion: transfer.MinVersion, MaxVersion: transfer.MaxVersion}.Append(nil))
	typ, b, err := p.next()
	if err != nil || typ != transfer.TypeWelcome {
		p.t.Fatalf("after hello: got %v frame, %v; want welcome", typ, err)
	}
	w, err := transfer.DecodeWelcome(b)
	if err != nil {
		p.t.Fatal(err)
	}
	return w
}

// offer sends o. A write error is ignored: the receiver may have ended
// the session after an earlier frame, which the next read reports.
func (p *rawPeer) offer(o transfer.Offer) {
	p.send(transfer.TypeOffer, o.Append(nil))
}

// chunk sends data at off of entry id with the data's true hash.
func (p *rawPeer) chunk(id uint64, off int64, data []byte) error {
	return p.chunkWithHash(id, off, data, blake3.Sum256(data))
}

func (p *rawPeer) chunkWithHash(id uint64, off int64, data []byte, sum scan.Sum) error {
	return p.send(transfer.TypeChunk, transfer.Chunk{ID: id, Offset: off, Hash: sum}.AppendHeader(nil), data)
}

// compressedChunk sends a chunk whose data is the zstd frame z, declared
// to inflate to size bytes hashing to sum.
func (p *rawPeer) compressedChunk(id uint64, off int64, size int, sum scan.Sum, z []byte) error {
	return p.send(transfer.TypeChunk, transfer.Chunk{ID: id, Offset: off, Compressed: true, Size: size, Hash: sum}.AppendHeader(nil), z)
}

// zstdFrame compresses data as one frame. A streamed frame does not
// declare its content size, so a decoder learns it only by inflating.
func zstdFrame(t *testing.T, data []byte, streamed bool) []byte {
	t.Helper()
	if !streamed {
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer enc.Close()
		return enc.EncodeAll(data, nil)
	}
	var buf bytes.Buffer
	enc, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// expect reads the next frame and fails unless it has type want.
func (p *rawPeer) expect(want transfer.Type) []byte {
	p.t.Helper()
	typ, b, err := p.next()
	if err != nil {
		p.t.Fatalf("want %v frame, read failed: %v", want, err)
	}
	if typ != want {
		p.t.Fatalf("got %v frame %s, want %v", typ, describeFrame(typ, b), want)
	}
	return b
}

// expectReply reads a reply for id with action want, and for a send,
// from offset 0: a staged prefix left by an earlier case would shift the
// data the caller sends.
func (p *rawPeer) expectReply(id uint64, want transfer.Action) transfer.Reply {
	p.t.Helper()
	r := p.reply()
	if r.ID != id || r.Action != want || r.Offset != 0 {
		p.t.Fatalf("reply %+v, want id %d action %d offset 0", r, id, want)
	}
	return r
}

// reply reads a reply.
func (p *rawPeer) reply() transfer.Reply {
	p.t.Helper()
	r, err := transfer.DecodeReply(p.expect(transfer.TypeReply))
	if err != nil {
		p.t.Fatal(err)
	}
	return r
}

// expectDone reads a done for id.
func (p *rawPeer) expectDone(id uint64) transfer.Status {
	p.t.Helper()
	st, err := transfer.DecodeStatus(transfer.TypeDone, p.expect(transfer.TypeDone))
	if err != nil {
		p.t.Fatal(err)
	}
	if st.ID != id {
		p.t.Fatalf("done %+v, want id %d", st, id)
	}
	return st
}

// expectCommitted reads the committed frame.
func (p *rawPeer) expectCommitted() transfer.Committed {
	p.t.Helper()
	c, err := transfer.DecodeCommitted(p.expect(transfer.TypeCommitted))
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// endsWithError reads until the receiver's error frame and checks its
// code. Replies and dones before it are logged; a commit, a timeout, or a
// read failure instead of the error frame fails the test. When the hub
// closed the connection before the error frame could be read, the test
// fails, and the reason the close carried is returned (with code
// lostCode) so that the caller's other checks still run.
func (p *rawPeer) endsWithError(want transfer.Code) transfer.ErrorMsg {
	p.t.Helper()
	for {
		typ, b, err := p.next()
		var ae *quic.ApplicationError
		if errors.As(err, &ae) && ae.Remote {
			p.t.Errorf("error frame (want code %d) lost: the hub closed the connection before it could be read: %v", want, err)
			return transfer.ErrorMsg{Code: lostCode, Message: ae.ErrorMessage}
		}
		if err != nil {
			p.t.Fatalf("want error frame with code %d, read failed: %v", want, err)
		}
		switch typ {
		case transfer.TypeReply, transfer.TypeDone:
			p.t.Logf("before the error: %v %s", typ, describeFrame(typ, b))
			continue
		case transfer.TypeError:
		default:
			p.t.Fatalf("want error frame with code %d, got %v %s", want, typ, describeFrame(typ, b))
		}
		m, err := transfer.DecodeError(b)
		if err != nil {
			p.t.Fatal(err)
		}
		p.t.Logf("error frame: code %d: %s", m.Code, m.Message)
		if m.Code != want {
			p.t.Errorf("error code %d (%s), want %d", m.Code, m.Message, want)
		}
		if m.Message == "" {
			p.t.Error("error frame without a message")
		}
		return m
	}
}

// lostCode marks an error whose frame was lost; only its message is known.
const lostCode transfer.Code = 0xffff

// describeFrame renders a frame from the receiver for a test log.
func describeFrame(typ transfer.Type, b []byte) string {
	var (
		v   any
		err error
	)
	switch typ {
	case transfer.TypeReply:
		v, err = transfer.DecodeReply(b)
	case transfer.TypeDone:
		v, err = transfer.DecodeStatus(typ, b)
	case transfer.TypeCommitted:
		v, err = transfer.DecodeCommitted(b)
	case transfer.TypeError:
		v, err = transfer.DecodeError(b)
	case transfer.TypeWelcome:
		v, err = transfer.DecodeWelcome(b)
	default:
		return "(" + typ.String() + ")"
	}
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%+v", v)
}

// rawFileOffer is the offer of a regular file holding data.
func rawFileOffer(id uint64, p string, data []byte) transfer.Offer {
	return transfer.Offer{ID: id, Kind: scan.File, Class: 1, Path: p, Size: int64(len(data)), Mode: 0o644,
		ModTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano(), Hash: blake3.Sum256(data)}
}

func rawDirOffer(id uint64, p string) transfer.Offer {
	return transfer.Offer{ID: id, Kind: scan.Dir, Class: 1, Path: p, Mode: 0o755}
}

func rawLinkOffer(id uint64, p, target string) transfer.Offer {
	return transfer.Offer{ID: id, Kind: scan.Symlink, Class: 1, Path: p, Mode: 0o777, Hash: blake3.Sum256([]byte(target)), Target: target}
}

// listEverything returns every path under dir, slash-separated and relative,
// without following links, sorted.
func listEverything(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(dir, p); rel != "." {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// checkConfined fails t unless everything under parent is root or inside
// one of root's namespaces: nothing beside the hub root, nothing in the hub
// root but namespace directories, no entry named x or passwd anywhere
// outside a namespace, and no symlink in a namespace whose target, read
// from where the link really is, leaves that namespace.
func checkConfined(t *testing.T, parent, root string, namespaces ...string) {
	t.Helper()
	rootRel, err := filepath.Rel(parent, root)
	if err != nil {
		t.Fatal(err)
	}
	rootRel = filepath.ToSlash(rootRel)
	for _, p := range listEverything(t, parent) {
		inside := false
		for _, ns := range namespaces {
			if p == rootRel+"/"+ns || strings.HasPrefix(p, rootRel+"/"+ns+"/") {
				inside = true
			}
		}
		if !inside && p != rootRel {
			t.Errorf("%s exists outside every namespace", p)
		}
	}
	for _, ns := range namespaces {
		dir := filepath.Join(root, ns)
		for _, p := range listEverything(t, dir) {
			fp := filepath.Join(dir, filepath.FromSlash(p))
			fi, err := os.Lstat(fp)
			if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				continue
			}
			target, err := os.Readlink(fp)
			if err != nil {
				t.Fatal(err)
			}
			to := target
			if !filepath.IsAbs(to) {
				to = filepath.Join(filepath.Dir(fp), to)
			}
			if rel, err := filepath.Rel(dir, to); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
				t.Errorf("symlink %s/%s -> %q leads out of the namespace (to %s)", ns, p, target, to)
			}
		}
	}
}

// liveTree lists the namespace without its state directory.
func liveTree(t *testing.T, ns string) []string {
	t.Helper()
	var out []string
	for _, p := range listEverything(t, ns) {
		if p != transfer.StateDir && !strings.HasPrefix(p, transfer.StateDir+"/") {
			out = append(out, p)
		}
	}
	return out
}

// readHeadManifest reads the namespace's last committed manifest, nil if
// there is none.
func readHeadManifest(t *testing.T, ns string) *receiver.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ns, transfer.StateDir, "HEAD"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("HEAD: %v", err)
	}
	root, err := os.OpenRoot(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	m, err := receiver.ReadManifest(root, seq)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// manifestPaths returns the paths m lists.
func manifestPaths(m *receiver.Manifest) []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, e := range m.Entries {
		out = append(out, e.Path)
	}
	return out
}
