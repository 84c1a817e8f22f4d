package identity

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// testQUIC bounds every handshake and connection so a failing test ends
// quickly; on loopback the handshakes themselves take milliseconds.
var testQUIC = &quic.Config{HandshakeIdleTimeout: time.Second, MaxIdleTimeout: 2 * time.Second}

// TestHandshakeOverQUIC runs the configurations through quic-go on
// 127.0.0.1 and records what each side can see; doc.go repeats it.
func TestHandshakeOverQUIC(t *testing.T) {
	hub, member, stranger, other := mustNew(t), mustNew(t), mustNew(t), mustNew(t)
	noCert := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{ALPN}, InsecureSkipVerify: true}
	tests := []struct {
		name       string
		client     *tls.Config
		wantAsked  []ID                    // IDs the hub's allow saw
		wantCode   quic.TransportErrorCode // 0 when the client is admitted
		wantRemote bool                    // the hub, not the client, refused
		wantIs     error                   // matched by errors.Is on the client's error
		wantMsg    string                  // the client's error text
	}{
		{
			name:      "allowed client",
			client:    member.ClientConfig(hub.ID),
			wantAsked: []ID{member.ID},
		},
		{
			name:       "unknown client",
			client:     stranger.ClientConfig(hub.ID),
			wantAsked:  []ID{stranger.ID},
			wantCode:   0x100 + 42, // TLS alert bad_certificate
			wantRemote: true,
			wantMsg:    "CRYPTO_ERROR 0x12a (remote): tls: bad certificate",
		},
		{
			name:     "client pinned to another hub",
			client:   member.ClientConfig(other.ID),
			wantCode: 0x100 + 42,
			wantIs:   ErrWrongHub,
			wantMsg:  "CRYPTO_ERROR 0x12a (local): identity: hub presented ID " + hub.ID.String() + ", want " + other.ID.String(),
		},
		{
			name:       "client without certificate",
			client:     noCert,
			wantCode:   0x100 + 116, // TLS alert certificate_required
			wantRemote: true,
			wantMsg:    "CRYPTO_ERROR 0x174 (remote): tls: certificate required",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			var (
				mu    sync.Mutex
				asked []ID
			)
			ln := listen(t, hub.ServerConfig(func(id ID) bool {
				mu.Lock()
				defer mu.Unlock()
				asked = append(asked, id)
				return id == member.ID
			}))

			if tt.wantCode == 0 {
				checkAdmitted(ctx, t, ln, tt.client, hub.ID, member.ID)
			} else {
				err := dialRefused(ctx, t, ln.Addr(), tt.client)
				checkClientError(t, err, tt.wantCode, tt.wantRemote, tt.wantIs, tt.wantMsg)
			}

			mu.Lock()
			got := slices.Clone(asked)
			mu.Unlock()
			if !slices.Equal(got, tt.wantAsked) {
				t.Errorf("allow saw %v, want %v", got, tt.wantAsked)
			}
			if tt.wantCode != 0 {
				// The refused connection must never come out of Accept: the
				// next one to come out is a member dialing afterwards.
				checkAdmitted(ctx, t, ln, member.ClientConfig(hub.ID), hub.ID, member.ID)
			}
		})
	}
}

// transport opens a UDP socket on 127.0.0.1 for quic-go. Closing the
// transport in cleanup ends its goroutines at once; a single-use one from
// quic.ListenAddr or DialAddr lingers for the closing period of its last
// connection.
func transport(t *testing.T) *quic.Transport {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: udp}
	t.Cleanup(func() {
		tr.Close()
		udp.Close()
	})
	return tr
}

func listen(t *testing.T, conf *tls.Config) *quic.Listener {
	t.Helper()
	ln, err := transport(t).Listen(conf, testQUIC)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// checkAdmitted dials ln, accepts the connection, checks both sides' view
// of the other's ID and sends a message across.
func checkAdmitted(ctx context.Context, t *testing.T, ln *quic.Listener, client *tls.Config, hubID, clientID ID) {
	t.Helper()
	cc, err := transport(t).Dial(ctx, ln.Addr(), client, testQUIC)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer cc.CloseWithError(0, "")
	sc, err := ln.Accept(ctx)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	defer sc.CloseWithError(0, "")

	for _, side := range []struct {
		name string
		cs   tls.ConnectionState
		want ID
	}{
		{"client sees hub", cc.ConnectionState().TLS, hubID},
		{"hub sees client", sc.ConnectionState().TLS, clientID},
	} {
		got, err := PeerID(side.cs)
		if err != nil || got != side.want {
			t.Errorf("%s: PeerID = %v, %v; want %v", side.name, got, err, side.want)
		}
		if side.cs.NegotiatedProtocol != ALPN || side.cs.Version != tls.VersionTLS13 {
			t.Errorf("%s: protocol %q, version %#x; want %q, TLS 1.3", side.name, side.cs.NegotiatedProtocol, side.cs.Version, ALPN)
		}
	}

	s, err := cc.OpenStreamSync(ctx)
	if err != nil {
		t.Fatalf("open stream: %v", err)
	}
	if _, err := s.Write([]byte("hello")); err != nil {
		t.Fatalf("write: %v", err)
	}
	s.Close()
	rs, err := sc.AcceptStream(ctx)
	if err != nil {
		t.Fatalf("accept stream: %v", err)
	}
	if got, err := io.ReadAll(rs); err != nil || string(got) != "hello" {
		t.Fatalf("hub read %q, %v; want hello", got, err)
	}
}

// dialRefused dials addr and returns the error that ends the connection: the
// dial's own, or, when the dial completed first (TLS 1.3 clients finish
// before the server has checked their certificate), the connection's cause.
func dialRefused(ctx context.Context, t *testing.T, addr net.Addr, client *tls.Config) error {
	t.Helper()
	conn, err := transport(t).Dial(ctx, addr, client, testQUIC)
	if err != nil {
		t.Logf("refused during dial: %v", err)
		return err
	}
	select {
	case <-conn.Context().Done():
	case <-ctx.Done():
		conn.CloseWithError(0, "")
		t.Fatal("connection admitted, want refusal")
	}
	err = context.Cause(conn.Context())
	t.Logf("refused after dial returned: %v", err)
	return err
}

func checkClientError(t *testing.T, err error, code quic.TransportErrorCode, remote bool, is error, msg string) {
	t.Helper()
	var te *quic.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("client error %v (%T), want *quic.TransportError", err, err)
	}
	if te.ErrorCode != code || te.Remote != remote {
		t.Errorf("client error code %#x remote %v, want %#x remote %v", te.ErrorCode, te.Remote, code, remote)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("errors.Is(%v, %v) = false", err, is)
	}
	for _, sentinel := range []error{ErrUnknownPeer, ErrWrongHub} {
		if sentinel != is && errors.Is(err, sentinel) {
			t.Errorf("errors.Is(%v, %v) = true, want false", err, sentinel)
		}
	}
	if err.Error() != msg {
		t.Errorf("client error %q, want %q", err, msg)
	}
}
