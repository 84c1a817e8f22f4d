package e2e

// Hostile and broken peers against a real hub over QUIC on 127.0.0.1: none
// of them may write outside a namespace, get bad data placed, or stop the
// hub from serving the next sync (DESIGN.md guarantees 5, 6 and 7).

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// hostileSync runs a normal sync of src with the real agent, bounded by
// hostileTimeout.
func hostileSync(t *testing.T, src string, connect agent.Connect) (agent.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hostileTimeout)
	defer cancel()
	opt := agent.Options{Source: src, ChunkSize: 256 << 10}
	plan, err := agent.Scan(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	return agent.Send(ctx, time.Now(), plan, opt, connect)
}

// hubIn makes parent/hub the hub root, so that anything written beside it
// shows up in parent.
func hubIn(t *testing.T, allow map[identity.ID]string) (h *hub, parent string, stop func() error) {
	t.Helper()
	parent = t.TempDir()
	root := filepath.Join(parent, "hub")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	h, stop = startHubAt(t, root, allow)
	return h, parent, stop
}

// checkNothingWritten fails t unless parent holds the empty hub root only
// and the hub placed nothing.
func checkNothingWritten(t *testing.T, h *hub, parent string) {
	t.Helper()
	if got := listEverything(t, parent); !slices.Equal(got, []string{"hub"}) {
		t.Errorf("after a refused peer, %s holds %v; want only the empty hub root", parent, got)
	}
	if got := h.placed.take(); len(got) != 0 {
		t.Errorf("hub placed %v for a refused peer", got)
	}
}

func TestHostileUnknownClient(t *testing.T) {
	t.Parallel()
	member, stranger := mustIdentity(t), mustIdentity(t)
	h, parent, _ := hubIn(t, map[identity.ID]string{member.ID: "edge"})
	src := t.TempDir()
	build(t, src, hostileSrcTree())

	t.Run("agent", func(t *testing.T) {
		_, err := hostileSync(t, src, agent.QUIC(h.addr, stranger.ClientConfig(h.id.ID), 0))
		t.Logf("sender's error: %v", err)
		if err == nil {
			t.Fatal("an unknown device synced")
		}
		if !errors.Is(err, agent.ErrNothingCommitted) {
			t.Errorf("error %v does not say nothing was committed", err)
		}
		if !strings.Contains(err.Error(), "certificate") {
			t.Errorf("error %q does not say the hub refused the device's certificate", err)
		}
		if agent.Retryable(err) || !agent.NotAdmitted(err) {
			t.Errorf("Retryable, NotAdmitted = %v, %v; want false, true", agent.Retryable(err), agent.NotAdmitted(err))
		}
	})
	t.Run("raw", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), hostileTimeout)
		defer cancel()
		conn, s, err := transfer.Dial(ctx, h.addr, stranger.ClientConfig(h.id.ID), 0)
		if err != nil {
			t.Logf("dial refused: %v", err)
			return
		}
		defer conn.CloseWithError(0, "")
		// TLS 1.3 clients finish the handshake before the server has
		// checked their certificate: the refusal shows on the first read.
		p := newRawPeer(t, s)
		p.send(transfer.TypeHello, transfer.Hello{MinVersion: 1, MaxVersion: 1}.Append(nil))
		p.send(transfer.TypeOffer, rawFileOffer(1, "x", []byte("x")).Append(nil))
		typ, b, err := p.next()
		if err == nil {
			t.Fatalf("unknown device read a %v frame %s", typ, describeFrame(typ, b))
		}
		t.Logf("first read failed: %v", err)
	})
	checkNothingWritten(t, h, parent)
}

func TestHostileWrongHub(t *testing.T) {
	t.Parallel()
	dev, other := mustIdentity(t), mustIdentity(t)
	h, parent, _ := hubIn(t, map[identity.ID]string{dev.ID: "edge"})
	src := t.TempDir()
	build(t, src, hostileSrcTree())

	t.Run("agent", func(t *testing.T) {
		_, err := hostileSync(t, src, agent.QUIC(h.addr, dev.ClientConfig(other.ID), 0))
		t.Logf("sender's error: %v", err)
		if !errors.Is(err, identity.ErrWrongHub) {
			t.Errorf("error %v does not wrap identity.ErrWrongHub", err)
		}
		if agent.Retryable(err) {
			t.Errorf("Retryable(%v) = true, want false", err)
		}
	})
	t.Run("dial", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), hostileTimeout)
		defer cancel()
		conn, _, err := transfer.Dial(ctx, h.addr, dev.ClientConfig(other.ID), 0)
		if err == nil {
			conn.CloseWithError(0, "")
			t.Fatal("dial to the wrong hub succeeded")
		}
		t.Logf("dial error: %v", err)
		if !errors.Is(err, identity.ErrWrongHub) {
			t.Errorf("error %v does not wrap identity.ErrWrongHub", err)
		}
	})
	checkNothingWritten(t, h, parent)
}

// hostileCase is a session a raw peer drives; it must end with the
// receiver's error frame carrying code.
type hostileCase struct {
	name string
	code transfer.Code
	run  func(p *rawPeer)
}

// offerThenData offers a file at a path no receiver may write as the
// first entry of a session.
func offerThenData(at string) func(*rawPeer) {
	return func(p *rawPeer) {
		p.handshake()
		offerThenRest(p, 1, at)
	}
}

// offerThenRest offers a file at at as entry id, then sends its data and a
// commit, so that a receiver that accepted the offer would place the file
// and answer instead of waiting.
func offerThenRest(p *rawPeer, id uint64, at string) {
	data := []byte("hostile\n")
	p.offer(rawFileOffer(id, at, data))
	p.chunk(id, 0, data)
	p.send(transfer.TypeCommit, transfer.Commit{Entries: id, Complete: true}.Append(nil))
}

func TestHostilePaths(t *testing.T) {
	t.Parallel()
	dev := mustIdentity(t)
	h, parent, _ := hubIn(t, map[identity.ID]string{dev.ID: "edge"})
	ns := filepath.Join(h.root, "edge")

	tests := []hostileCase{
		{"parent", transfer.CodeRefused, offerThenData("../x")},
		{"absolute", transfer.CodeRefused, offerThenData("/etc/passwd")},
		{"climbing", transfer.CodeRefused, offerThenData("a/../../x")},
		{"state directory", transfer.CodeRefused, offerThenData(".ferry/HEAD")},
		{"nested state directory", transfer.CodeRefused, offerThenData("a/.ferry/x")},
		{"backslashes", transfer.CodeRefused, offerThenData(`..\..\x`)},
		{"through a symlink", transfer.CodeRefused, func(p *rawPeer) {
			p.handshake()
			p.offer(rawDirOffer(1, "sub"))
			p.expectReply(1, transfer.Skip)
			p.offer(rawLinkOffer(2, "l", "sub"))
			p.expectReply(2, transfer.Skip)
			if target, err := os.Readlink(filepath.Join(ns, "l")); err != nil || target != "sub" {
				p.t.Fatalf("link l not placed: %q, %v", target, err)
			}
			offerThenRest(p, 3, "l/x")
		}},
		{"through a symlink that replaced a directory", transfer.CodeRefused, func(p *rawPeer) {
			// m becomes a directory for m/y, then a link to sub2: m/x must
			// not land in sub2 through it.
			p.handshake()
			p.offer(rawFileOffer(1, "m/y", nil))
			p.expectReply(1, transfer.Skip)
			p.offer(rawDirOffer(2, "sub2"))
			p.expectReply(2, transfer.Skip)
			// The receiver may refuse the link or m/x; either ends the
			// session.
			p.offer(rawLinkOffer(3, "m", "sub2"))
			offerThenRest(p, 4, "m/x")
		}},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			p := dialRaw(t, h, dev)
			tt.run(p)
			p.endsWithError(tt.code)
		})
	}

	checkConfined(t, parent, h.root, "edge")
	for _, p := range liveTree(t, ns) {
		if name := path.Base(p); name == "x" || name == "passwd" || name == "HEAD" {
			t.Errorf("%s was created in the live tree", p)
		}
	}
	for _, p := range []string{"sub/x", "sub2/x"} {
		if _, err := os.Lstat(filepath.Join(ns, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s was created through a link: %v", p, err)
		}
	}
	if m := readHeadManifest(t, ns); m != nil {
		t.Errorf("a refused session committed manifest %d: %v", m.Seq, manifestPaths(m))
	}
}

func TestHostileChunkHash(t *testing.T) {
	t.Parallel()
	dev := mustIdentity(t)
	h, parent, _ := hubIn(t, map[identity.ID]string{dev.ID: "edge"})
	ns := filepath.Join(h.root, "edge")
	data := randomBytes("f", 0, 3000)
	var wrong scan.Sum
	wrong[0] = 1

	// refused checks that the refused file f is nowhere: not at its path,
	// not in staging.
	refused := func(t *testing.T, st transfer.Status) {
		t.Helper()
		t.Logf("done: code %d: %s", st.Code, st.Message)
		if st.Code != transfer.CodeHashMismatch {
			t.Errorf("done code %d, want %d (hash mismatch)", st.Code, transfer.CodeHashMismatch)
		}
		if _, err := os.Lstat(filepath.Join(ns, "f")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("refused file at its final path: %v", err)
		}
		if got := listEverything(t, filepath.Join(ns, transfer.StateDir, "staging")); len(got) != 0 {
			t.Errorf("staging holds %v after the refusal", got)
		}
	}
	// committed commits and checks that the manifest does not list f.
	committed := func(t *testing.T, p *rawPeer, entries uint64, complete bool) transfer.Committed {
		t.Helper()
		p.mustSend(transfer.TypeCommit, transfer.Commit{Entries: entries, Complete: complete}.Append(nil))
		c := p.expectCommitted()
		t.Logf("committed: %+v", c)
		m := readHeadManifest(t, ns)
		if m == nil || m.Seq != c.Seq {
			t.Fatalf("HEAD manifest %v, want %d", m, c.Seq)
		}
		if slices.Contains(manifestPaths(m), "f") {
			t.Errorf("manifest %d lists the refused file", m.Seq)
		}
		return c
	}

	t.Run("bad chunk mid-file", func(t *testing.T) {
		p := dialRaw(t, h, dev)
		p.handshake()
		p.offer(rawFileOffer(1, "f", data))
		p.expectReply(1, transfer.Send)
		p.chunk(1, 0, data[:1000])
		p.chunkWithHash(1, 1000, data[1000:2000], wrong)
		refused(t, p.expectDone(1))
		// The sender stops and confirms, as PROTOCOL.md says.
		p.mustSend(transfer.TypeAbandon, transfer.Status{ID: 1, Code: transfer.CodeHashMismatch, Message: "refused"}.Append(nil))
		if c := committed(t, p, 1, false); c.Complete {
			t.Errorf("committed %+v, want incomplete", c)
		}
	})
	t.Run("bad last chunk", func(t *testing.T) {
		p := dialRaw(t, h, dev)
		p.handshake()
		p.offer(rawFileOffer(1, "f", data))
		p.expectReply(1, transfer.Send)
		p.chunk(1, 0, data[:1000])
		p.chunkWithHash(1, 1000, data[1000:], wrong)
		refused(t, p.expectDone(1))
		// Every byte was sent: nothing to abandon.
		if c := committed(t, p, 1, false); c.Complete {
			t.Errorf("committed %+v, want incomplete", c)
		}
	})
	t.Run("file hash mismatch", func(t *testing.T) {
		p := dialRaw(t, h, dev)
		p.handshake()
		o := rawFileOffer(1, "f", data)
		o.Hash = blake3.Sum256([]byte("something else"))
		p.offer(o)
		p.expectReply(1, transfer.Send)
		p.chunk(1, 0, data[:2000])
		p.chunk(1, 2000, data[2000:])
		refused(t, p.expectDone(1))
		if c := committed(t, p, 1, false); c.Complete {
			t.Errorf("committed %+v, want incomplete", c)
		}
	})
	t.Run("complete claimed after a refusal", func(t *testing.T) {
		// The receiver refused f itself; a sender claiming the plan is
		// whole must not get a manifest marked complete without f.
		p := dialRaw(t, h, dev)
		p.handshake()
		o := rawFileOffer(1, "f", data)
		o.Hash = blake3.Sum256([]byte("something else"))
		p.offer(o)
		p.expectReply(1, transfer.Send)
		p.chunk(1, 0, data)
		refused(t, p.expectDone(1))
		if c := committed(t, p, 1, true); c.Complete {
			t.Errorf("committed %+v: marked complete though the receiver refused f", c)
		}
	})
	t.Run("compressed chunk with a bad hash", func(t *testing.T) {
		p := dialRaw(t, h, dev)
		p.handshake()
		p.offer(rawFileOffer(1, "f", data))
		p.expectReply(1, transfer.Send)
		p.compressedChunk(1, 0, len(data), wrong, zstdFrame(t, data, false))
		refused(t, p.expectDone(1))
		if c := committed(t, p, 1, false); c.Complete {
			t.Errorf("committed %+v, want incomplete", c)
		}
	})
	t.Run("resumed prefix then other bytes", func(t *testing.T) {
		// The first session stages f's first chunk, then its link is
		// cut; the second resumes f and sends bytes of other content
		// with true chunk hashes. The whole-file check must refuse them.
		p := dialRaw(t, h, dev)
		p.handshake()
		p.offer(rawFileOffer(1, "f", data))
		p.expectReply(1, transfer.Send)
		p.chunk(1, 0, data[:1000])
		// The reply to a later offer shows the chunk was taken.
		p.offer(rawFileOffer(2, "g", data))
		p.expectReply(2, transfer.Send)
		p.cut()

		p = dialRaw(t, h, dev)
		p.handshake()
		p.offer(rawFileOffer(1, "f", data))
		r := p.reply()
		t.Logf("resumed: %+v", r)
		if r.ID != 1 || r.Action != transfer.Send {
			t.Fatalf("reply %+v, want send for entry 1", r)
		}
		if r.Offset != 1000 {
			t.Errorf("second session resumed f at %d, want 1000 (the test needs the resumed prefix)", r.Offset)
		}
		other := randomBytes("other", 1, len(data))
		p.chunk(1, r.Offset, other[r.Offset:])
		refused(t, p.expectDone(1))
		if c := committed(t, p, 1, false); c.Complete {
			t.Errorf("committed %+v, want incomplete", c)
		}
	})
	checkConfined(t, parent, h.root, "edge")
}

func TestHostileProtocol(t *testing.T) {
	t.Parallel()
	dev := mustIdentity(t)
	h, parent, _ := hubIn(t, map[identity.ID]string{dev.ID: "edge"})
	ns := filepath.Join(h.root, "edge")
	src := t.TempDir()
	build(t, src, hostileSrcTree())
	connect := agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0)
	data := randomBytes("f", 0, 2000)
	hello := func(lo, hi uint16) []byte { return transfer.Hello{MinVersion: lo, MaxVersion: hi}.Append(nil) }

	tests := []hostileCase{
		{"chunk never offered", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.chunk(7, 0, []byte("abc"))
		}},
		{"chunk at a wrong offset", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.offer(rawFileOffer(1, "offset", data))
			p.expectReply(1, transfer.Send)
			p.chunk(1, 1000, data[1000:])
		}},
		{"chunk beyond the size", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.offer(rawFileOffer(1, "beyond", data[:10]))
			p.expectReply(1, transfer.Send)
			p.chunk(1, 0, data[:20])
		}},
		{"second hello", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.mustSend(transfer.TypeHello, hello(1, 1))
		}},
		{"commit with the wrong count", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.mustSend(transfer.TypeCommit, transfer.Commit{Entries: 3, Complete: true}.Append(nil))
		}},
		{"commit with a file incomplete", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.offer(rawFileOffer(1, "incomplete", data))
			p.expectReply(1, transfer.Send)
			p.chunk(1, 0, data[:1000])
			p.mustSend(transfer.TypeCommit, transfer.Commit{Entries: 1, Complete: true}.Append(nil))
		}},
		{"unknown frame type", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.sendRaw([]byte{42, 0, 0, 0, 0})
		}},
		{"4 GiB frame", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.sendRaw([]byte{byte(transfer.TypeChunk), 0xff, 0xff, 0xff, 0xff})
		}},
		{"4 GiB hello", transfer.CodeProtocol, func(p *rawPeer) {
			p.sendRaw([]byte{byte(transfer.TypeHello), 0xff, 0xff, 0xff, 0xff})
		}},
		{"future versions", transfer.CodeVersion, func(p *rawPeer) {
			p.mustSend(transfer.TypeHello, hello(7, 9))
		}},
		{"bad magic", transfer.CodeProtocol, func(p *rawPeer) {
			p.mustSend(transfer.TypeHello, append([]byte("ferrx\x00"), 1, 1))
		}},
		{"chunk before hello", transfer.CodeProtocol, func(p *rawPeer) {
			p.chunk(1, 0, []byte("abc"))
		}},
		{"receiver's frame from the sender", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.mustSend(transfer.TypeCommitted, transfer.Committed{Seq: 99, Complete: true}.Append(nil))
		}},
		{"offer out of order", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.offer(rawFileOffer(2, "order", data))
		}},
		{"path offered twice", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.offer(rawFileOffer(1, "twice", data))
			p.expectReply(1, transfer.Send)
			p.offer(rawFileOffer(2, "twice", data))
		}},
		{"malformed offer", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			b := rawFileOffer(1, "malformed", data).Append(nil)
			p.mustSend(transfer.TypeOffer, b[:len(b)-3])
		}},
		{"compressed chunk inflating past its size", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.offer(rawFileOffer(1, "inflate", data))
			p.expectReply(1, transfer.Send)
			p.compressedChunk(1, 0, 1000, blake3.Sum256(data[:1000]), zstdFrame(t, data, false))
		}},
		{"zstd bomb", transfer.CodeProtocol, func(p *rawPeer) {
			// 16 MiB of zeros in a frame that does not say its size,
			// declared as one chunk of the bound.
			zeros := make([]byte, 2*transfer.MaxChunkSize)
			z := zstdFrame(t, zeros, true)
			p.t.Logf("bomb: %d bytes inflating to %d", len(z), len(zeros))
			p.handshake()
			p.offer(rawFileOffer(1, "bomb", zeros[:transfer.MaxChunkSize]))
			p.expectReply(1, transfer.Send)
			p.compressedChunk(1, 0, transfer.MaxChunkSize, blake3.Sum256(zeros[:transfer.MaxChunkSize]), z)
		}},
		{"compressed garbage", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.offer(rawFileOffer(1, "garbage", data))
			p.expectReply(1, transfer.Send)
			p.compressedChunk(1, 0, len(data), blake3.Sum256(data), []byte("not a zstd frame"))
		}},
		{"stream ends inside a frame", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.sendRaw([]byte{byte(transfer.TypeOffer), 0, 0, 0, 100, 1, 1})
			p.rw.(interface{ CloseWrite() error }).CloseWrite()
		}},
		{"stream ends before commit", transfer.CodeProtocol, func(p *rawPeer) {
			p.handshake()
			p.rw.(interface{ CloseWrite() error }).CloseWrite()
		}},
	}

	// Each case ends its session with an error frame, commits nothing,
	// and the hub then serves the same device's normal sync.
	normalSync := func(t *testing.T) {
		t.Helper()
		rep, err := hostileSync(t, src, connect)
		if err != nil {
			t.Fatalf("normal sync after the hostile session: %v", err)
		}
		if !rep.Committed.Complete {
			t.Errorf("normal sync committed %+v, want a complete manifest", rep.Committed)
		}
		sameTree(t, src, ns)
	}
	normalSync(t)
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			before := readHeadManifest(t, ns).Seq
			p := dialRaw(t, h, dev)
			tt.run(p)
			m := p.endsWithError(tt.code)
			if tt.code == transfer.CodeVersion && !strings.Contains(m.Message, "7 to 9") {
				t.Errorf("version error %q does not name the versions the sender speaks (7 to 9)", m.Message)
			}
			if after := readHeadManifest(t, ns).Seq; after != before {
				t.Errorf("the hostile session committed manifest %d", after)
			}
			normalSync(t)
		})
	}
	checkConfined(t, parent, h.root, "edge")
}

func TestHostileSymlinkTargets(t *testing.T) {
	t.Parallel()
	dev := mustIdentity(t)
	h, parent, _ := hubIn(t, map[identity.ID]string{dev.ID: "edge"})
	ns := filepath.Join(h.root, "edge")

	tests := []struct{ path, target string }{
		{"l", "../../etc"},
		{"l", "/etc"},
		{"l", "a/../.."},
		{"d/l", "../../etc"},
		{"d/l", "../.."},
		{"d/l", "../.ferry"},
		{"l", ".."},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.path+" to "+tt.target, "/", "_"), func(t *testing.T) {
			p := dialRaw(t, h, dev)
			p.handshake()
			p.offer(rawLinkOffer(1, tt.path, tt.target))
			p.send(transfer.TypeCommit, transfer.Commit{Entries: 1, Complete: true}.Append(nil))
			p.endsWithError(transfer.CodeRefused)
			if _, err := os.Lstat(filepath.Join(ns, tt.path)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s exists after the refusal: %v", tt.path, err)
			}
		})
	}
	t.Run("through a link that replaced a directory", func(t *testing.T) {
		// a/b is a directory (for a/b/f), then a link to m; the link
		// a/b/c -> ../.. stays inside the tree read from a/b, but it
		// would be placed in m, from where it leads out of the
		// namespace.
		p := dialRaw(t, h, dev)
		p.handshake()
		p.offer(rawDirOffer(1, "m"))
		p.expectReply(1, transfer.Skip)
		p.offer(rawFileOffer(2, "a/b/f", nil))
		p.expectReply(2, transfer.Skip)
		// The receiver may refuse either link; both end the session.
		p.offer(rawLinkOffer(3, "a/b", "../m"))
		p.offer(rawLinkOffer(4, "a/b/c", "../.."))
		p.send(transfer.TypeCommit, transfer.Commit{Entries: 4, Complete: true}.Append(nil))
		p.endsWithError(transfer.CodeRefused)
		if target, err := os.Readlink(filepath.Join(ns, "m/c")); err == nil {
			t.Errorf("link m/c -> %s was created through the link a/b", target)
		}
	})

	checkConfined(t, parent, h.root, "edge")
}

// TestHostileLocal runs a crafted offer through a local destination, which
// serves the same Receive over an in-memory pipe.
func TestHostileLocal(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dst := filepath.Join(parent, "dst")
	ctx, cancel := context.WithTimeout(t.Context(), hostileTimeout)
	defer cancel()
	c, err := receiver.Local(ctx, dst, receiver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(hostileTimeout))
	p := newRawPeer(t, c)
	p.handshake()
	data := []byte("hostile\n")
	p.offer(rawFileOffer(1, "../x", data))
	p.endsWithError(transfer.CodeRefused)
	err = c.Close()
	t.Logf("receiver's error: %v", err)
	if !errors.Is(err, transfer.ErrRefused) {
		t.Errorf("receiver returned %v, want transfer.ErrRefused", err)
	}
	if got := listEverything(t, parent); !slices.ContainsFunc(got, func(p string) bool { return p == "dst" }) || slices.ContainsFunc(got, func(p string) bool { return path.Base(p) == "x" }) {
		t.Errorf("%s holds %v", parent, got)
	}
	if got := liveTree(t, dst); len(got) != 0 {
		t.Errorf("live tree holds %v after a refused offer", got)
	}
}

// TestHostileStall: a device that opens a session and goes silent does
// not keep another device, or its own next connection, from syncing, nor
// the hub from stopping.
func TestHostileStall(t *testing.T) {
	t.Parallel()
	a, b := mustIdentity(t), mustIdentity(t)
	h, parent, stop := hubIn(t, map[identity.ID]string{a.ID: "edge-a", b.ID: "edge-b"})
	src := t.TempDir()
	build(t, src, hostileSrcTree())

	silent := dialRaw(t, h, a)
	silent.handshake()
	silent.offer(rawFileOffer(1, "f", []byte("never sent")))
	silent.expectReply(1, transfer.Send)

	if _, err := hostileSync(t, src, agent.QUIC(h.addr, b.ClientConfig(h.id.ID), 0)); err != nil {
		t.Fatalf("other device while one stalls: %v", err)
	}
	sameTree(t, src, filepath.Join(h.root, "edge-b"))
	if _, err := hostileSync(t, src, agent.QUIC(h.addr, a.ClientConfig(h.id.ID), 0)); err != nil {
		t.Fatalf("same device while its old session stalls: %v", err)
	}
	sameTree(t, src, filepath.Join(h.root, "edge-a"))

	second := dialRaw(t, h, b)
	second.handshake()
	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("hub: %v", err)
		}
		t.Logf("hub stopped %v after cancel with a session open", time.Since(start).Round(time.Millisecond))
	case <-time.After(hostileTimeout):
		t.Fatal("hub did not stop while a silent session was open")
	}
	checkConfined(t, parent, h.root, "edge-a", "edge-b")
}

// TestHostileSourceNames syncs a tree holding names the protocol cannot
// carry (a backslash, a newline, bytes that are not UTF-8): legal on Linux,
// refused by every receiver. They must fail alone, named in the report;
// they must not end the session, or the device could never sync again.
func TestHostileSourceNames(t *testing.T) {
	t.Parallel()
	dev := mustIdentity(t)
	h, parent, _ := hubIn(t, map[identity.ID]string{dev.ID: "edge"})
	src := t.TempDir()
	good := hostileSrcTree()
	build(t, src, good)
	bad := []string{`back\slash.txt`, "new\nline.txt", "latin1-\xe9.txt"}
	for _, name := range bad {
		if err := os.WriteFile(filepath.Join(src, name), []byte("odd name\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := hostileSync(t, src, agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0))
	if err != nil {
		t.Fatalf("sync with %d odd names: %v", len(bad), err)
	}
	var failed []string
	for _, f := range rep.Failed {
		t.Logf("failed: %v", f)
		failed = append(failed, f.Path)
	}
	slices.Sort(failed)
	want := slices.Sorted(slices.Values(bad))
	if !slices.Equal(failed, want) {
		t.Errorf("failed entries %q, want %q", failed, want)
	}
	if rep.Committed.Complete {
		t.Errorf("committed %+v, want incomplete", rep.Committed)
	}
	for _, name := range bad {
		os.Remove(filepath.Join(src, name))
	}
	sameTree(t, src, filepath.Join(h.root, "edge"))
	checkConfined(t, parent, h.root, "edge")
}
