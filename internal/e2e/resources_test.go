package e2e

// Hostile peers that spend a hub's resources instead of breaking its
// protocol, against a real hub over QUIC on 127.0.0.1: a handshake that
// never continues, a flood of them, a device that opens connection after
// connection, a session that trickles bytes. Each is cut off by a timeout
// or a limit, and another device syncs meanwhile.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/transfer"
)

// TestHostileHandshakeStall: a peer that sends the first flight of a real
// handshake and nothing after it holds the hub's handshake slot for the
// handshake timeout only, and another device syncs meanwhile.
func TestHostileHandshakeStall(t *testing.T) {
	t.Parallel()
	const timeout = time.Second
	b := mustIdentity(t)
	h := startLimitedHub(t, map[identity.ID]string{b.ID: "edge-b"}, transfer.ListenConfig{HandshakeTimeout: timeout}, nil)
	src := t.TempDir()
	build(t, src, hostileSrcTree())

	s := stallHandshake(t, h, false)
	s.wait()
	answered := time.Now()
	waitFor(t, "the stalled handshake to be held", func() bool { return h.ln.Handshakes() == 1 })

	if _, err := hostileSync(t, src, agent.QUIC(h.addr, b.ClientConfig(h.id.ID), 0)); err != nil {
		t.Fatalf("other device while a handshake stalls: %v", err)
	}
	sameTree(t, src, filepath.Join(h.root, "edge-b"))
	synced := time.Since(answered)

	waitFor(t, "the hub to drop the stalled handshake", func() bool { return h.ln.Handshakes() == 0 })
	dropped := time.Since(answered)
	t.Logf("other device synced %v and the stalled handshake was dropped %v after the hub's last answer (timeout %v)",
		synced.Round(time.Millisecond), dropped.Round(time.Millisecond), timeout)
	// quic-go drops a handshake the timeout after the last packet it
	// received, or three probe timeouts after if longer (with no RTT
	// sample, about 1 s), and any handshake after twice the timeout.
	if dropped < timeout*9/10 || dropped > 2*timeout+time.Second {
		t.Errorf("stalled handshake dropped after %v, want about %v", dropped, timeout)
	}
}

// TestHostileHandshakeFlood: handshakes that never continue fill half the
// handshake slots without proving their address; beyond that they must
// answer a Retry, and beyond the limit they are refused, an admitted
// device's too. A session already running is not disturbed, and once the
// stalled handshakes time out the device syncs.
func TestHostileHandshakeFlood(t *testing.T) {
	t.Parallel()
	const (
		timeout = 3 * time.Second
		limit   = 4
	)
	a, b := mustIdentity(t), mustIdentity(t)
	h := startLimitedHub(t, map[identity.ID]string{a.ID: "edge-a", b.ID: "edge-b"},
		transfer.ListenConfig{HandshakeTimeout: timeout, MaxHandshakes: limit}, nil)
	src := t.TempDir()
	build(t, src, hostileSrcTree())

	running := holdConn(t, h, a)
	running.handshake()

	// Peers that do not answer a Retry (spoofed sources cannot): the
	// first limit/2 are held, the rest are asked to retry and hold nothing.
	start := time.Now()
	for i := range limit/2 + 3 {
		s := stallHandshake(t, h, false)
		s.wait()
		if got, want := s.retried.Load(), i >= limit/2; got != want {
			t.Errorf("stalled handshake %d: asked to retry %v, want %v", i, got, want)
		}
	}
	if n := h.ln.Handshakes(); n != limit/2 {
		t.Errorf("%d handshakes held after the unvalidated flood, want %d", n, limit/2)
	}
	// Peers that answer the Retry fill the rest; then new ones are refused.
	for range limit - limit/2 {
		s := stallHandshake(t, h, true)
		s.wait()
		if !s.retried.Load() {
			t.Error("a handshake beyond half the limit was not asked to retry")
		}
	}
	if n := h.ln.Handshakes(); n != limit {
		t.Errorf("%d handshakes held, want %d", n, limit)
	}
	refused := stallHandshake(t, h, true)
	checkConnRefused(t, "stalled handshake beyond the limit", refused.result())
	_, err := hostileSync(t, src, agent.QUIC(h.addr, b.ClientConfig(h.id.ID), 0))
	checkConnRefused(t, "device while the handshakes are full", err)
	// Everything above must happen before the first stalled handshake
	// times out.
	t.Logf("flood to refusal took %v (handshake timeout %v)", time.Since(start).Round(time.Millisecond), timeout)
	if !strings.Contains(h.log.String(), "too many handshakes in progress") {
		t.Errorf("hub log does not name the handshake limit:\n%s", h.log.String())
	}

	running.offer(rawFileOffer(1, "f", []byte("during the flood")))
	running.expectReply(1, transfer.Send)

	waitFor(t, "the hub to drop the stalled handshakes", func() bool { return h.ln.Handshakes() == 0 })
	if _, err := hostileSync(t, src, agent.QUIC(h.addr, b.ClientConfig(h.id.ID), 0)); err != nil {
		t.Fatalf("device after the stalled handshakes timed out: %v", err)
	}
	sameTree(t, src, filepath.Join(h.root, "edge-b"))
}

// TestHostileManyConns: connections beyond a limit are closed at once with
// a reason naming the limit; the connections already open keep working,
// other devices sync meanwhile, and a closed connection frees its place.
func TestHostileManyConns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// hub sets a limit of 2 connections.
		hub func(*receiver.Hub)
		// perDevice: the limit is device a's own, filled by two of its
		// connections, and device c syncs meanwhile. Otherwise it is the
		// hub's, filled by a and b, and c is refused too.
		perDevice bool
		// reason is the hub's close for a connection beyond the limit.
		reason string
	}{
		{"per device", func(rh *receiver.Hub) { rh.MaxConnsPerDevice = 2 }, true, "per-device connection limit reached (2)"},
		{"total", func(rh *receiver.Hub) { rh.MaxConns = 2 }, false, "hub connection limit reached (2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b, c := mustIdentity(t), mustIdentity(t), mustIdentity(t)
			h := startLimitedHub(t, map[identity.ID]string{a.ID: "edge-a", b.ID: "edge-b", c.ID: "edge-c"}, transfer.ListenConfig{}, tt.hub)
			src := t.TempDir()
			build(t, src, hostileSrcTree())

			// Held connections open no stream, so that none preempts
			// another's session.
			first, second := holdConn(t, h, a), (*rawPeer)(nil)
			if tt.perDevice {
				second = holdConn(t, h, a)
			} else {
				second = holdConn(t, h, b)
			}
			waitFor(t, "the hub to serve the held connections", func() bool { return h.rh.Conns() == 2 })

			checkLimitClose(t, "extra connection", dialClosed(t, h, a), tt.reason)
			_, err := hostileSync(t, src, agent.QUIC(h.addr, a.ClientConfig(h.id.ID), 0))
			var ae *quic.ApplicationError
			if !errors.As(err, &ae) {
				t.Fatalf("sync beyond the limit: got %v, want the hub's close", err)
			}
			checkLimitClose(t, "sync beyond the limit", ae, tt.reason)
			if !agent.Retryable(err) {
				t.Errorf("a sync refused for a connection limit is not retryable: %v", err)
			}
			want := 2
			if tt.perDevice {
				if _, err := hostileSync(t, src, agent.QUIC(h.addr, c.ClientConfig(h.id.ID), 0)); err != nil {
					t.Fatalf("other device while one holds its limit: %v", err)
				}
				sameTree(t, src, filepath.Join(h.root, "edge-c"))
			} else {
				checkLimitClose(t, "other device", dialClosed(t, h, c), tt.reason)
				want++
			}
			if got := strings.Count(h.log.String(), `msg="connection refused"`); got != want {
				t.Errorf("hub logged %d refusals, want %d:\n%s", got, want, h.log.String())
			}

			// The held connections were not disturbed: one runs a session.
			first.handshake()
			first.offer(rawFileOffer(1, "f", []byte("still served")))
			first.expectReply(1, transfer.Send)

			second.cut()
			waitFor(t, "the hub to release the closed connection", func() bool { return h.rh.Conns() == 1 })
			dev, ns := a, "edge-a"
			if !tt.perDevice {
				dev, ns = c, "edge-c"
			}
			if _, err := hostileSync(t, src, agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0)); err != nil {
				t.Fatalf("sync after a held connection closed: %v", err)
			}
			sameTree(t, src, filepath.Join(h.root, ns))
		})
	}
}

// TestHostileTrickle: a session fed a byte at a time never completes a
// frame and ends at the frame timeout, and a connection that never opens
// its stream is closed at the same timeout; meanwhile another device syncs.
func TestHostileTrickle(t *testing.T) {
	t.Parallel()
	const timeout = 2 * time.Second
	a, b, c := mustIdentity(t), mustIdentity(t), mustIdentity(t)
	h := startLimitedHub(t, map[identity.ID]string{a.ID: "edge-a", b.ID: "edge-b", c.ID: "edge-c"},
		transfer.ListenConfig{}, func(rh *receiver.Hub) { rh.FrameTimeout = timeout })
	src := t.TempDir()
	build(t, src, hostileSrcTree())

	muteClosed := dialClosedAsync(t, h, c)

	trickler := holdConn(t, h, a)
	// The hub starts the frame timeout after it answers the hello.
	start := time.Now()
	trickler.handshake()
	// The header of a 200-byte offer, then a byte of it every 200 ms: the
	// connection is never idle, but the frame does not complete.
	trickler.sendRaw([]byte{byte(transfer.TypeOffer), 0, 0, 0, 200})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if _, err := trickler.rw.Write([]byte{0}); err != nil {
					return
				}
			}
		}
	})

	if _, err := hostileSync(t, src, agent.QUIC(h.addr, b.ClientConfig(h.id.ID), 0)); err != nil {
		t.Fatalf("other device while one trickles: %v", err)
	}
	sameTree(t, src, filepath.Join(h.root, "edge-b"))
	t.Logf("other device synced %v after the trickle began", time.Since(start).Round(time.Millisecond))

	m := trickler.endsWithError(transfer.CodeCanceled)
	took := time.Since(start)
	t.Logf("trickling session ended after %v: %s", took.Round(time.Millisecond), m.Message)
	if !strings.Contains(m.Message, "no whole frame from the sender in 2s") || took < timeout || took > timeout+hostileTimeout {
		t.Errorf("trickling session ended after %v with %q, want after %v for no whole frame", took, m.Message, timeout)
	}
	cancel()

	ae := <-muteClosed
	checkLimitClose(t, "connection without a stream", ae, "no stream from the sender in 2s")
}

// limitedHub is a hub whose listener and receiver.Hub the test can see,
// with its log kept.
type limitedHub struct {
	*hub
	rh  *receiver.Hub
	ln  *transfer.Listener
	log *syncBuffer
}

// startLimitedHub runs a hub on 127.0.0.1 with lc for its listener and
// configure applied to it; cleanup stops it.
func startLimitedHub(t *testing.T, allow map[identity.ID]string, lc transfer.ListenConfig, configure func(*receiver.Hub)) *limitedHub {
	t.Helper()
	id := mustIdentity(t)
	h := &limitedHub{hub: &hub{id: id, root: t.TempDir(), placed: &placedLog{}}, log: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), h.log), &slog.HandlerOptions{Level: slog.LevelWarn}))
	h.rh = &receiver.Hub{Root: h.root, Allow: allow, Placed: h.placed.add, Logger: log}
	if configure != nil {
		configure(h.rh)
	}
	lc.Logger = log
	ln, err := transfer.ListenWith("127.0.0.1:0", id.ServerConfig(h.rh.Admit), lc)
	if err != nil {
		t.Fatal(err)
	}
	h.ln, h.addr = ln, ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.rh.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub: %v", err)
		}
		ln.Close()
	})
	return h
}

// holdConn connects dev to h and returns the peer before any frame is
// written, so the hub is still waiting for its stream. Reads are bounded
// by hostileTimeout; cleanup closes the connection.
func holdConn(t *testing.T, h *limitedHub, dev *identity.Identity) *rawPeer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hostileTimeout)
	defer cancel()
	conn, s, err := transfer.Dial(ctx, h.addr, dev.ClientConfig(h.id.ID), 0)
	if err != nil {
		t.Fatal(err)
	}
	s.SetReadDeadline(time.Now().Add(4 * hostileTimeout))
	t.Cleanup(func() { conn.CloseWithError(0, "") })
	p := newRawPeer(t, s)
	p.cut = func() { conn.CloseWithError(0x42, "link lost") }
	return p
}

// dialClosed connects dev to h and waits for the hub to close the
// connection, returning the hub's close.
func dialClosed(t *testing.T, h *limitedHub, dev *identity.Identity) *quic.ApplicationError {
	t.Helper()
	return <-dialClosedAsync(t, h, dev)
}

// dialClosedAsync is dialClosed, reporting the close on the returned
// channel; nil if the connection failed otherwise (and the test with it).
func dialClosedAsync(t *testing.T, h *limitedHub, dev *identity.Identity) <-chan *quic.ApplicationError {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*hostileTimeout)
	conn, _, err := transfer.Dial(ctx, h.addr, dev.ClientConfig(h.id.ID), 0)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	out := make(chan *quic.ApplicationError, 1)
	go func() {
		defer cancel()
		defer conn.CloseWithError(0, "")
		select {
		case <-conn.Context().Done():
		case <-ctx.Done():
			t.Errorf("the hub did not close the connection in %v", 2*hostileTimeout)
			out <- nil
			return
		}
		var ae *quic.ApplicationError
		if err := context.Cause(conn.Context()); !errors.As(err, &ae) || !ae.Remote {
			t.Errorf("connection ended with %v, want the hub's close", err)
			out <- nil
			return
		}
		out <- ae
	}()
	return out
}

// checkLimitClose fails t unless ae is the hub's close saying reason.
func checkLimitClose(t *testing.T, what string, ae *quic.ApplicationError, reason string) {
	t.Helper()
	if ae == nil {
		return
	}
	t.Logf("%s: %v", what, ae)
	if !ae.Remote || ae.ErrorMessage != reason {
		t.Errorf("%s: closed with %v, want the hub's close saying %q", what, ae, reason)
	}
}

// checkConnRefused fails t unless err is QUIC's CONNECTION_REFUSED from the hub.
func checkConnRefused(t *testing.T, what string, err error) {
	t.Helper()
	var te *quic.TransportError
	if !errors.As(err, &te) || !te.Remote || te.ErrorCode != quic.ConnectionRefused {
		t.Errorf("%s: got %v, want CONNECTION_REFUSED from the hub", what, err)
		return
	}
	t.Logf("%s: %v", what, err)
}

// stall is a QUIC handshake with the hub, from an identity it does not
// know, whose datagrams stop once the hub answers.
type stall struct {
	t *testing.T
	// stopped is closed when the client stops sending.
	stopped chan struct{}
	// retried is set if the hub asked for a Retry.
	retried atomic.Bool
	// done receives the dial's error.
	done chan error
}

// wait waits until the client stopped sending.
func (s *stall) wait() {
	s.t.Helper()
	select {
	case <-s.stopped:
	case <-time.After(hostileTimeout):
		s.t.Fatal("the hub did not answer a handshake")
	}
}

// result waits for the dial's error.
func (s *stall) result() error {
	s.t.Helper()
	select {
	case err := <-s.done:
		return err
	case <-time.After(hostileTimeout):
		s.t.Fatal("a refused handshake did not end")
		return nil
	}
}

// stallHandshake starts a stalled handshake with h. With answerRetry, a
// Retry is answered first, as by a peer that owns its address; without,
// the hub's first answer of any kind ends the client's part. Cleanup
// ends the client.
func stallHandshake(t *testing.T, h *limitedHub, answerRetry bool) *stall {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	raddr, err := net.ResolveUDPAddr("udp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &stall{t: t, stopped: make(chan struct{}), done: make(chan error, 1)}
	pc := &stallConn{PacketConn: udp, udp: udp, s: s, answerRetry: answerRetry}
	tlsConf := mustIdentity(t).ClientConfig(h.id.ID)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := quic.Dial(ctx, pc, raddr, tlsConf, transfer.QUICConfig(0))
		s.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		udp.Close()
	})
	return s
}

// stallConn is a client's socket that passes datagrams until the hub
// answers (a Retry counts only without answerRetry), then drops every
// datagram the client writes. It hides the *net.UDPConn's own methods so
// that quic-go reads and writes through ReadFrom and WriteTo.
type stallConn struct {
	net.PacketConn
	udp         *net.UDPConn
	s           *stall
	answerRetry bool
	quiet       atomic.Bool
	once        sync.Once
}

func (c *stallConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if err == nil {
		retry := isRetry(b[:n])
		if retry {
			c.s.retried.Store(true)
		}
		if !retry || !c.answerRetry {
			c.quiet.Store(true)
			c.once.Do(func() { close(c.s.stopped) })
		}
	}
	return n, addr, err
}

func (c *stallConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.quiet.Load() {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}

// SetReadBuffer and SetWriteBuffer keep quic-go from warning that it
// cannot size the buffers.
func (c *stallConn) SetReadBuffer(n int) error  { return c.udp.SetReadBuffer(n) }
func (c *stallConn) SetWriteBuffer(n int) error { return c.udp.SetWriteBuffer(n) }

// isRetry reports whether b is a QUIC Retry packet (RFC 9000 17.2.5; RFC
// 9369 3.2 for version 2).
func isRetry(b []byte) bool {
	if len(b) < 5 || b[0]&0x80 == 0 {
		return false
	}
	typ := b[0] & 0x30 >> 4
	switch version := uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4]); version {
	case 1:
		return typ == 3
	case 0x6b3343cf:
		return typ == 0
	}
	return false
}

// waitFor polls cond until it holds, failing t after hostileTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hostileTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
