package netsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// maxDatagram is the largest UDP payload over IPv4.
const maxDatagram = 65535 - 8 - 20

// socketBuffer is the kernel buffer requested for every socket, so that
// bursts are dropped by the emulated queue, not silently by the kernel.
// Linux caps it at net.core.rmem_max / wmem_max.
const socketBuffer = 4 << 20

// ErrServing is returned by Serve when the proxy is already serving.
var ErrServing = errors.New("netsim: proxy is already serving")

// Proxy is a UDP relay that impairs the traffic between its clients and one
// upstream server. Create it with New, run it with Serve, stop it by
// cancelling Serve's context, and release it with Close. Its methods are
// safe for concurrent use.
type Proxy struct {
	conn     *net.UDPConn
	upstream *net.UDPAddr
	log      *slog.Logger
	cut      cutSwitch
	pipes    [2]*pipe // indexed by Dir

	mu       sync.Mutex
	sessions map[netip.AddrPort]*session
	seen     int // sessions opened since New
	serving  bool
	closed   bool
	served   chan struct{} // made by Serve, closed when it has cleaned up
}

// New binds the listening socket and resolves the upstream address. The
// proxy forwards nothing until Serve is called.
func New(cfg Config) (*Proxy, error) {
	for _, d := range []struct {
		dir  Dir
		link Link
	}{{Up, cfg.Up}, {Down, cfg.Down}} {
		if err := d.link.validate(); err != nil {
			return nil, fmt.Errorf("netsim: %v link: %w", d.dir, err)
		}
	}
	for _, b := range cfg.Blackouts {
		if b.At < 0 || b.For <= 0 {
			return nil, fmt.Errorf("netsim: blackout at %v for %v: need At >= 0 and For > 0", b.At, b.For)
		}
	}
	if cfg.Upstream == "" {
		return nil, errors.New("netsim: no upstream address")
	}
	up, err := net.ResolveUDPAddr("udp", cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("netsim: resolve upstream: %w", err)
	}
	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	laddr, err := net.ResolveUDPAddr("udp", listen)
	if err != nil {
		return nil, fmt.Errorf("netsim: resolve listen address: %w", err)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("netsim: listen: %w", err)
	}
	growBuffers(conn)

	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{
		conn:     conn,
		upstream: up,
		log:      log,
		cut:      cutSwitch{schedule: append([]Blackout(nil), cfg.Blackouts...)},
		sessions: make(map[netip.AddrPort]*session),
	}
	p.pipes[Up] = newPipe(Up, cfg.Up, cfg.Seed)
	p.pipes[Down] = newPipe(Down, cfg.Down, cfg.Seed)
	p.pipes[Up].send = func(s *session, b []byte) error {
		_, err := s.conn.Write(b)
		return err
	}
	p.pipes[Down].send = func(s *session, b []byte) error {
		_, err := p.conn.WriteToUDPAddrPort(b, s.client)
		return err
	}
	for _, pp := range p.pipes {
		pp.cut = p.cut.active
		pp.onDeliver = cfg.OnDeliver
	}
	return p, nil
}

// Addr returns the address clients send to.
func (p *Proxy) Addr() *net.UDPAddr {
	return p.conn.LocalAddr().(*net.UDPAddr)
}

// SetLink replaces the impairments of direction d. Out-of-range values are
// clamped (negative rate, delay and jitter to 0, loss to [0, 1]). Datagrams
// already admitted keep their delivery times.
func (p *Proxy) SetLink(d Dir, l Link) {
	p.pipe(d).setLink(l.clamped())
}

// Link returns the current impairments of direction d.
func (p *Proxy) Link(d Dir) Link {
	return p.pipe(d).getLink()
}

// SetBlackout turns the manual blackout on or off. While it is on, the
// proxy drops everything in both directions, whatever the schedule says.
func (p *Proxy) SetBlackout(on bool) {
	p.cut.manual.Store(on)
}

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	n := p.seen
	p.mu.Unlock()
	return Stats{
		Up:       p.pipes[Up].stats.snapshot(),
		Down:     p.pipes[Down].stats.snapshot(),
		Sessions: n,
	}
}

func (p *Proxy) pipe(d Dir) *pipe {
	if d != Up && d != Down {
		panic(fmt.Sprintf("netsim: invalid direction %d", int(d)))
	}
	return p.pipes[d]
}

// Serve relays datagrams until ctx is done or Close is called, then closes
// every upstream socket, drops whatever is still in flight and returns nil.
// It returns an error if reading the listening socket fails, ErrServing if
// the proxy is already serving, and net.ErrClosed after Close. Scheduled
// blackouts are timed from the start of Serve. Serve can be called again
// after it returns, until Close; counters and links carry over.
func (p *Proxy) Serve(ctx context.Context) error {
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return net.ErrClosed
	case p.serving:
		p.mu.Unlock()
		return ErrServing
	}
	p.serving = true
	p.served = make(chan struct{})
	p.mu.Unlock()

	start := time.Now()
	p.cut.start.Store(&start)

	var schedulers, readers sync.WaitGroup
	done := make(chan struct{})
	for _, pp := range p.pipes {
		schedulers.Go(func() { pp.run(done) })
	}
	// Unblock the read below when ctx ends; a deadline, unlike Close,
	// leaves the socket usable for another Serve.
	stop := context.AfterFunc(ctx, func() { p.conn.SetReadDeadline(time.Now()) })

	err := p.readLoop(ctx, &readers)

	stop()
	p.conn.SetReadDeadline(time.Time{})
	close(done)
	schedulers.Wait() // no more writes to upstream sockets
	p.mu.Lock()
	for k, s := range p.sessions {
		s.conn.Close()
		delete(p.sessions, k)
	}
	p.mu.Unlock()
	readers.Wait()
	for _, pp := range p.pipes {
		pp.drain()
	}

	p.mu.Lock()
	p.serving = false
	close(p.served)
	p.mu.Unlock()
	return err
}

// readLoop reads from clients and feeds the up pipe. The upstream readers
// of the sessions it opens are added to wg.
func (p *Proxy) readLoop(ctx context.Context, wg *sync.WaitGroup) error {
	buf := make([]byte, maxDatagram+1)
	up := p.pipes[Up]
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				if ctx.Err() != nil {
					return nil
				}
				// A stale deadline from an earlier Serve's cancellation.
				p.conn.SetReadDeadline(time.Time{})
				continue
			case errors.Is(err, net.ErrClosed):
				return nil // Close was called
			case isRefused(err):
				continue // an ICMP error for an earlier write to a client
			}
			return fmt.Errorf("netsim: read: %w", err)
		}
		s, err := p.session(from, wg)
		if err != nil {
			p.log.Warn("netsim: open upstream socket", "client", from, "err", err)
			continue
		}
		up.push(time.Now(), clone(buf[:n]), s)
	}
}

// Close stops Serve if it is running, waits for it to clean up, and closes
// the listening socket. It is safe to call more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	serving, served := p.serving, p.served
	p.mu.Unlock()

	err := p.conn.Close()
	if serving {
		<-served
	}
	return err
}

func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}

func growBuffers(c *net.UDPConn) {
	// Best effort: the kernel caps both at its configured maximum.
	_ = c.SetReadBuffer(socketBuffer)
	_ = c.SetWriteBuffer(socketBuffer)
}
