package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/netsim"
)

// wireMeter relays a hub's UDP traffic through the impairment proxy, with
// no impairment, to count the UDP payload bytes of both directions: what a
// link would carry, QUIC's handshake, framing, acknowledgements and
// retransmissions included.
type wireMeter struct {
	addr string
	p    *netsim.Proxy
}

func meterWire(t testing.TB, upstream string) *wireMeter {
	t.Helper()
	p, err := netsim.New(netsim.Config{Upstream: upstream})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go p.Serve(ctx)
	t.Cleanup(func() { cancel(); p.Close() })
	return &wireMeter{addr: p.Addr().String(), p: p}
}

// bytes returns the UDP payload bytes received so far, both ways.
func (m *wireMeter) bytes() int64 {
	st := m.p.Stats()
	return int64(st.Up.Bytes + st.Down.Bytes)
}

// during returns the bytes that f put on the wire. The last packets of a
// connection (its close) may still be in flight when f returns; they are
// counted if they arrive within a moment.
func (m *wireMeter) during(f func()) int64 {
	before := m.bytes()
	f()
	last := m.bytes()
	for range 20 {
		time.Sleep(25 * time.Millisecond)
		now := m.bytes()
		if now == last {
			break
		}
		last = now
	}
	return last - before
}
