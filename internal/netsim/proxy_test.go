package netsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

func TestProxyForwardsBothWays(t *testing.T) {
	srv := startServer(t, true)
	p := startProxy(t, Config{Upstream: srv.addr()})
	c := dial(t, p)
	for i := range 10 {
		if _, ok := ping(t, c, i, 2*time.Second); !ok {
			t.Fatalf("ping %d: no echo", i)
		}
	}
	// The echo can overtake the counter updates that follow the writes,
	// in either direction.
	waitFor(t, 2*time.Second, func() bool {
		s := p.Stats()
		return s.Up.Forwarded == 10 && s.Down.Forwarded == 10
	})
	s := p.Stats()
	want := DirStats{Packets: 10, Bytes: 40, Forwarded: 10, ForwardedBytes: 40}
	if s.Up != want || s.Down != want || s.Sessions != 1 {
		t.Errorf("Stats() = %+v, want up and down %+v, 1 session", s, want)
	}
}

func TestProxyManyClients(t *testing.T) {
	const clients, pings = 20, 20
	srv := startServer(t, true)
	p := startProxy(t, Config{
		Upstream: srv.addr(),
		Up:       Link{Delay: 5 * time.Millisecond, Rate: 1_000_000},
		Down:     Link{Delay: 5 * time.Millisecond, Rate: 1_000_000},
	})
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for k := range clients {
		c := dial(t, p)
		wg.Go(func() {
			for i := range pings {
				if _, ok := ping(t, c, k*1000+i, 5*time.Second); !ok {
					errs <- fmt.Errorf("client %d ping %d: no echo", k, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitFor(t, 2*time.Second, func() bool { return p.Stats().Down.Forwarded == clients*pings })
	s := p.Stats()
	if s.Sessions != clients || s.Up.Forwarded != clients*pings || s.Down.Forwarded != clients*pings {
		t.Errorf("Stats() = %+v, want %d sessions and %d forwarded each way", s, clients, clients*pings)
	}
}

func TestProxyLifecycle(t *testing.T) {
	srv := startServer(t, true)
	p, err := New(Config{Upstream: srv.addr()})
	if err != nil {
		t.Fatal(err)
	}
	if a := p.Addr(); !a.IP.IsLoopback() || a.Port == 0 {
		t.Errorf("Addr() = %v, want 127.0.0.1 with a port", a)
	}
	c := dial(t, p)

	// Serve until ctx ends, then again: the socket survives.
	for round := range 2 {
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- p.Serve(ctx) }()
		if _, ok := ping(t, c, round, 2*time.Second); !ok {
			t.Fatalf("round %d: no echo", round)
		}
		if err := p.Serve(ctx); !errors.Is(err, ErrServing) {
			t.Errorf("second Serve = %v, want ErrServing", err)
		}
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("Serve = %v, want nil after cancel", err)
		}
	}

	// Close while serving stops Serve.
	errc := make(chan error, 1)
	go func() { errc <- p.Serve(t.Context()) }()
	if _, ok := ping(t, c, 9, 2*time.Second); !ok {
		t.Fatal("no echo before Close")
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := <-errc; err != nil {
		t.Errorf("Serve = %v, want nil after Close", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := p.Serve(t.Context()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve after Close = %v, want net.ErrClosed", err)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"no upstream", Config{}},
		{"bad upstream", Config{Upstream: "no-port"}},
		{"bad listen", Config{Upstream: "127.0.0.1:9", Listen: "256.0.0.1:0"}},
		{"bad loss", Config{Upstream: "127.0.0.1:9", Up: Link{Loss: 1.5}}},
		{"negative rate", Config{Upstream: "127.0.0.1:9", Down: Link{Rate: -1}}},
		{"bad blackout", Config{Upstream: "127.0.0.1:9", Blackouts: []Blackout{{At: time.Second}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := New(tt.cfg); err == nil {
				p.Close()
				t.Error("New succeeded, want an error")
			}
		})
	}
}

func TestProxyUpstreamRestart(t *testing.T) {
	// The server goes away and comes back on the same port: the ICMP
	// port-unreachable errors in between must not end the session.
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr)
	conn.Close()

	p := startProxy(t, Config{Upstream: addr.String()})
	c := dial(t, p)
	for range 5 {
		c.Write([]byte("nobody home"))
		time.Sleep(10 * time.Millisecond)
	}
	waitFor(t, 2*time.Second, func() bool {
		s := p.Stats().Up
		return s.Forwarded+s.Errors == 5
	})

	conn, err = net.ListenUDP("udp", addr)
	if err != nil {
		t.Skipf("cannot rebind %v: %v", addr, err)
	}
	defer conn.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer conn.Close()
	wg.Go(func() {
		buf := make([]byte, 64)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			conn.WriteToUDPAddrPort(buf[:n], from)
		}
	})
	if _, ok := ping(t, c, 1, 2*time.Second); !ok {
		t.Fatal("no echo after the server came back")
	}
	if s := p.Stats(); s.Sessions != 1 || s.Up.Packets != 6 {
		t.Errorf("Stats() = %+v, want 1 session and 6 datagrams up", s)
	}
}
