package transfer

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/quic-go/quic-go"
)

// QUIC application error codes used when closing a connection.
const (
	closeOK       quic.ApplicationErrorCode = 0
	closeProtocol quic.ApplicationErrorCode = 1
)

// QUICConfig returns the QUIC settings for slow, lossy, long-RTT links.
func QUICConfig() *quic.Config {
	return &quic.Config{
		// Satellite and cellular handshakes can take several seconds of
		// RTT and loss; quic-go aborts after twice this value.
		HandshakeIdleTimeout: 15 * time.Second,
		// A cut link is noticed after this long without any packet. Long
		// enough for multi-second RTT spikes, short enough that a sender
		// reconnects within a minute.
		MaxIdleTimeout: 45 * time.Second,
		// Keeps NAT bindings alive (many drop UDP mappings after 30 s) and
		// the idle timer from firing while the receiver fsyncs a big file.
		KeepAlivePeriod: 15 * time.Second,
		// Windows only need to cover bandwidth × RTT; 2 Mbit/s × 600 ms
		// is 150 KB. quic-go's defaults (512 KiB growing to 6 MiB per
		// stream) cover that and a fast LAN as well, so they stay.
		//
		// One data stream carries the session, in order; refuse more.
		MaxIncomingStreams:    1,
		MaxIncomingUniStreams: -1,
		// Unknown tunnels (VPNs, cellular) may carry less than 1280 bytes;
		// start at the QUIC minimum and let path MTU discovery grow it.
		InitialPacketSize: 1200,
	}
}

// Dial opens a QUIC connection to a receiver at addr and the session's
// stream on it.
func Dial(ctx context.Context, addr string, tlsConf *tls.Config) (*quic.Conn, *Stream, error) {
	conn, err := quic.DialAddr(ctx, addr, tlsConf, QUICConfig())
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		conn.CloseWithError(closeProtocol, "open stream")
		return nil, nil, fmt.Errorf("open stream to %s: %w", addr, err)
	}
	return conn, &Stream{s}, nil
}

// Listen listens for QUIC connections from senders on addr.
func Listen(addr string, tlsConf *tls.Config) (*quic.Listener, error) {
	ln, err := quic.ListenAddr(addr, tlsConf, QUICConfig())
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln, nil
}

// Accept waits for the session's stream on an accepted connection.
func Accept(ctx context.Context, conn *quic.Conn) (*Stream, error) {
	s, err := conn.AcceptStream(ctx)
	if err != nil {
		return nil, fmt.Errorf("accept stream: %w", err)
	}
	return &Stream{s}, nil
}

// Stream adapts a QUIC stream to the session's io.ReadWriteCloser: Close
// ends both directions, so a goroutine blocked reading it returns.
type Stream struct{ s *quic.Stream }

func (s *Stream) Read(p []byte) (int, error)  { return s.s.Read(p) }
func (s *Stream) Write(p []byte) (int, error) { return s.s.Write(p) }

// Close cancels reading and closes the write direction.
func (s *Stream) Close() error {
	s.s.CancelRead(0)
	return s.s.Close()
}

// CloseWrite closes the write direction only, sending everything written.
func (s *Stream) CloseWrite() error { return s.s.Close() }

// Finish ends a connection after a session: the side that received the
// last message closes it cleanly; err, if set, is sent as the reason.
func Finish(conn *quic.Conn, err error) {
	if err == nil {
		conn.CloseWithError(closeOK, "")
		return
	}
	conn.CloseWithError(closeProtocol, truncate(err.Error(), 512))
}
