package netsim

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// session is one client address and the upstream socket that carries its
// traffic. The server sees each session as a distinct source port.
type session struct {
	client netip.AddrPort
	conn   *net.UDPConn // connected to the upstream server
}

// session returns the session of client, opening it and starting its
// upstream reader (added to wg) on first use.
func (p *Proxy) session(client netip.AddrPort, wg *sync.WaitGroup) (*session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.sessions[client]; ok {
		return s, nil
	}
	conn, err := net.DialUDP("udp", nil, p.upstream)
	if err != nil {
		return nil, err
	}
	growBuffers(conn)
	s := &session{client: client, conn: conn}
	p.sessions[client] = s
	p.seen++
	p.log.Debug("netsim: session opened", "client", client, "via", conn.LocalAddr())
	wg.Go(func() { p.readUpstream(s) })
	return s, nil
}

// readUpstream feeds the down pipe with what the server sends to s, until
// s.conn is closed.
func (p *Proxy) readUpstream(s *session) {
	buf := make([]byte, maxDatagram+1)
	down := p.pipes[Down]
	for {
		n, err := s.conn.Read(buf)
		if err != nil {
			if isRefused(err) {
				continue // the server port was closed; keep the session
			}
			if !errors.Is(err, net.ErrClosed) {
				p.log.Warn("netsim: read upstream", "client", s.client, "err", err)
			}
			return
		}
		down.push(time.Now(), clone(buf[:n]), s)
	}
}

// isRefused reports an ICMP port-unreachable surfaced on a UDP socket.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}
