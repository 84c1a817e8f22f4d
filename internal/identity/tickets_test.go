package identity

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// handshake is what one connection's handshake showed.
type handshake struct {
	err     error
	resumed bool
	curve   tls.CurveID
	// admitted says the hub's side of the handshake completed.
	admitted bool
}

// dialOnce dials ln the way a sender does (through ForDial) and waits for
// the handshake and the hub's side of it.
func dialOnce(t *testing.T, ln *quic.Listener, conf *tls.Config) handshake {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, settle := ForDial(conf)
	cc, err := transport(t).Dial(ctx, ln.Addr(), c, testQUIC)
	if err != nil {
		return handshake{err: err}
	}
	defer cc.CloseWithError(0, "")
	accepted := make(chan *quic.Conn, 1)
	go func() {
		sc, err := ln.Accept(ctx)
		if err == nil {
			accepted <- sc
		}
		close(accepted)
	}()
	select {
	case <-cc.HandshakeComplete():
	case <-cc.Context().Done():
		return handshake{err: context.Cause(cc.Context())}
	}
	cs := cc.ConnectionState()
	settle(cs.TLS.DidResume)
	// The hub sends the next ticket after the handshake: wait for it.
	admitted := false
	if sc := <-accepted; sc != nil {
		defer sc.CloseWithError(0, "")
		select {
		case <-sc.HandshakeComplete():
			admitted = true
		case <-sc.Context().Done():
		}
	}
	time.Sleep(50 * time.Millisecond)
	return handshake{resumed: cs.TLS.DidResume, curve: cs.TLS.CurveID, admitted: admitted}
}

func TestResumption(t *testing.T) {
	hub, dev := mustNew(t), mustNew(t)
	var admit atomic.Bool
	admit.Store(true)
	ln := listen(t, hub.ServerConfig(func(id ID) bool { return id == dev.ID && admit.Load() }))
	conf := dev.ClientConfig(hub.ID)

	first := dialOnce(t, ln, conf)
	if first.err != nil || !first.admitted || first.resumed || first.curve != tls.X25519MLKEM768 {
		t.Fatalf("first handshake: %+v; want a full one with the hybrid post-quantum exchange", first)
	}
	second := dialOnce(t, ln, conf)
	if second.err != nil || !second.resumed || second.curve != tls.X25519 {
		t.Fatalf("second handshake: %+v; want resumed with X25519", second)
	}
	// Each resumption brings the next ticket.
	if third := dialOnce(t, ln, conf); third.err != nil || !third.resumed {
		t.Fatalf("third handshake: %+v; want resumed", third)
	}

	// A device removed from the allow list cannot come back on a ticket.
	admit.Store(false)
	if got := dialOnce(t, ln, conf); got.admitted || got.resumed {
		t.Fatalf("after revocation: %+v; want the handshake refused", got)
	}
}

func TestTicketSingleUse(t *testing.T) {
	hub, dev := mustNew(t), mustNew(t)
	ln := listen(t, hub.ServerConfig(func(id ID) bool { return id == dev.ID }))
	conf := dev.ClientConfig(hub.ID)
	if got := dialOnce(t, ln, conf); got.err != nil {
		t.Fatal(got.err)
	}
	cs, ok := conf.ClientSessionCache.Get("")
	if !ok {
		t.Fatal("no ticket after a handshake")
	}
	if got := dialOnce(t, ln, conf); !got.resumed {
		t.Fatalf("first use of the ticket: %+v; want resumed", got)
	}
	// Use the ticket again, as an attacker replaying the first flight
	// would.
	replay := dev.ClientConfig(hub.ID)
	replay.ClientSessionCache.Put("", cs)
	got := dialOnce(t, ln, replay)
	if got.err != nil || got.resumed {
		t.Fatalf("second use of a ticket: %+v; want a full handshake", got)
	}
	// That fallback was X25519 only: its ticket is dropped, so the next
	// handshake is a full hybrid one again.
	if replay.ClientSessionCache.(*Tickets).Has() {
		t.Error("kept the ticket of a handshake that fell back to X25519")
	}
	if got := dialOnce(t, ln, replay); got.resumed || got.curve != tls.X25519MLKEM768 {
		t.Errorf("after a refused ticket: %+v; want a full hybrid handshake", got)
	}
}

func TestTicketFile(t *testing.T) {
	hub, dev := mustNew(t), mustNew(t)
	ln := listen(t, hub.ServerConfig(func(id ID) bool { return id == dev.ID }))
	file := filepath.Join(t.TempDir(), "tickets", "hub")
	run := func() handshake {
		conf := dev.ClientConfig(hub.ID)
		conf.ClientSessionCache = &Tickets{File: file}
		return dialOnce(t, ln, conf)
	}
	if got := run(); got.err != nil || got.resumed {
		t.Fatalf("first run: %+v", got)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("ticket file mode %v, want 0600", fi.Mode().Perm())
	}
	if got := run(); got.err != nil || !got.resumed {
		t.Fatalf("second run, a new process in effect: %+v; want resumed", got)
	}
	if err := os.WriteFile(file, []byte("ferry ticket 1\n\xff\xff"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := run(); got.err != nil || got.resumed {
		t.Fatalf("with a damaged ticket file: %+v; want a full handshake", got)
	}
	if got := run(); got.err != nil || !got.resumed {
		t.Fatalf("after the damaged file was replaced: %+v; want resumed", got)
	}
}

func TestTicketsForgottenByRestartedHub(t *testing.T) {
	hub, dev := mustNew(t), mustNew(t)
	allow := func(id ID) bool { return id == dev.ID }
	conf := dev.ClientConfig(hub.ID)
	if got := dialOnce(t, listen(t, hub.ServerConfig(allow)), conf); got.err != nil {
		t.Fatal(got.err)
	}
	restarted := listen(t, hub.ServerConfig(allow))
	if got := dialOnce(t, restarted, conf); got.err != nil || got.resumed {
		t.Fatalf("after a hub restart: %+v; want a full handshake", got)
	}
	if got := dialOnce(t, restarted, conf); got.err != nil || got.resumed || got.curve != tls.X25519MLKEM768 {
		t.Fatalf("next: %+v; want a full hybrid handshake", got)
	}
	if got := dialOnce(t, restarted, conf); got.err != nil || !got.resumed {
		t.Fatalf("then: %+v; want resumed", got)
	}
}
