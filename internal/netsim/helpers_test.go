package netsim

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// These tests run real UDP over 127.0.0.1 on a shared, noisy machine: they
// assert bands and orderings, never tight timings. Exact timing is checked
// on the virtual clock in pipe_test.go.

// udpServer is a plain UDP server on 127.0.0.1 that records what it
// receives and, if echo is set, sends every datagram back.
type udpServer struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  [][]byte
}

func startServer(t *testing.T, echo bool) *udpServer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	growBuffers(conn)
	s := &udpServer{conn: conn}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			s.mu.Lock()
			s.got = append(s.got, clone(buf[:n]))
			s.mu.Unlock()
			if echo {
				conn.WriteToUDPAddrPort(buf[:n], from)
			}
		}
	})
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	return s
}

func (s *udpServer) addr() string { return s.conn.LocalAddr().String() }

func (s *udpServer) received() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// startProxy creates a proxy in front of upstream and serves it until the
// test ends.
func startProxy(t *testing.T, cfg Config) *Proxy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- p.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// dial returns a client socket connected to the proxy.
func dial(t *testing.T, p *Proxy) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	growBuffers(c)
	t.Cleanup(func() { c.Close() })
	return c
}

// ping sends one datagram and waits up to timeout for its echo. It returns
// the round-trip time, or false if nothing came back.
func ping(t *testing.T, c *net.UDPConn, id int, timeout time.Duration) (time.Duration, bool) {
	t.Helper()
	msg := binary.BigEndian.AppendUint32(nil, uint32(id))
	start := time.Now()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	c.SetReadDeadline(start.Add(timeout))
	for {
		n, err := c.Read(buf)
		if err != nil {
			return 0, false
		}
		if n == 4 && binary.BigEndian.Uint32(buf) == uint32(id) {
			return time.Since(start), true
		}
	}
}

// waitFor polls cond until it holds or timeout passes; the assertions that
// follow report what went wrong.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}
