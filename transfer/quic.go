package transfer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
)

// QUIC application error codes used when closing a connection.
const (
	closeOK       quic.ApplicationErrorCode = 0
	closeProtocol quic.ApplicationErrorCode = 1
)

// DefaultIdleTimeout is how long a silent link is tolerated before the
// connection is given up: long enough for multi-second RTT spikes on
// satellite and cellular links, short enough that a sender reconnects
// within a minute of a cut.
const DefaultIdleTimeout = 45 * time.Second

// DefaultHandshakeTimeout is how long a handshake may go without a packet:
// satellite and cellular handshakes can take several seconds of RTT and
// loss. A shorter idle timeout lowers it to the idle timeout.
const DefaultHandshakeTimeout = 15 * time.Second

// QUICConfig returns the QUIC settings for slow, lossy, long-RTT links.
// idle is the idle timeout; if zero, DefaultIdleTimeout.
func QUICConfig(idle time.Duration) *quic.Config {
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	return &quic.Config{
		// quic-go aborts any handshake after twice this value.
		HandshakeIdleTimeout: min(DefaultHandshakeTimeout, idle),
		MaxIdleTimeout:       idle,
		// Keeps NAT bindings alive (many drop UDP mappings after 30 s)
		// and the idle timer from firing while the receiver fsyncs.
		KeepAlivePeriod: min(15*time.Second, idle/3),
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
// stream on it. idle is the idle timeout (zero: the default).
func Dial(ctx context.Context, addr string, tlsConf *tls.Config, idle time.Duration) (*quic.Conn, *Stream, error) {
	return DialWith(ctx, addr, tlsConf, DialConfig{Idle: idle})
}

// DialConfig configures DialWith. The zero value works.
type DialConfig struct {
	// Idle is the idle timeout; if zero, DefaultIdleTimeout.
	Idle time.Duration
	// NoMTUProbe turns off path MTU discovery. Its probes cost about
	// 10 KB per connection and gain under 2% of the bytes sent, so a
	// session that expects to send little is cheaper without them.
	NoMTUProbe bool
}

// DialWith is Dial with a configuration.
//
// It does not send 0-RTT data: quic-go races opening a stream against the
// handshake then (quic-go issue 4303), and the data would save a round trip
// but hardly a byte, since the client's second flight is padded to 1200
// bytes anyway and carries the first messages in that padding.
func DialWith(ctx context.Context, addr string, tlsConf *tls.Config, cfg DialConfig) (*quic.Conn, *Stream, error) {
	qc := QUICConfig(cfg.Idle)
	qc.DisablePathMTUDiscovery = cfg.NoMTUProbe
	conn, err := quic.DialAddr(ctx, addr, tlsConf, qc)
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

// Listener accepts QUIC connections from senders.
type Listener struct {
	*quic.Listener
	tr *quic.Transport
	hs *handshakes
}

// Listen listens for QUIC connections on the UDP address addr. resetKey
// and idle are ListenConfig's ResetKey and Idle.
func Listen(addr string, tlsConf *tls.Config, resetKey *quic.StatelessResetKey, idle time.Duration) (*Listener, error) {
	return ListenWith(addr, tlsConf, ListenConfig{ResetKey: resetKey, Idle: idle})
}

// ListenConfig configures ListenWith. The zero value works.
type ListenConfig struct {
	// ResetKey, if set, lets a restarted receiver tell senders of the
	// connections it lost at once (a stateless reset) instead of leaving
	// them to time out; keep it the same across restarts.
	ResetKey *quic.StatelessResetKey
	// Idle is the idle timeout; if zero, DefaultIdleTimeout.
	Idle time.Duration
	// HandshakeTimeout drops a handshake that receives nothing for this
	// long, and quic-go drops any handshake after twice this. It is at
	// most Idle. If zero, DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// MaxHandshakes is the most connections held before their handshake
	// completes: each costs memory and a key exchange before its peer
	// has proved who it is. Once half are in use, a new connection must
	// first prove its source address with a Retry round trip, so packets
	// with spoofed sources hold at most half; when all are in use, new
	// connections are refused with CONNECTION_REFUSED until one ends.
	// If zero, DefaultMaxHandshakes.
	MaxHandshakes int
	// Logger receives a line when connections are refused for
	// MaxHandshakes, at most one a minute. If nil, nothing is logged.
	Logger *slog.Logger
}

// DefaultMaxHandshakes leaves room for a fleet of hundreds of devices that
// reconnect together after the receiver restarts.
const DefaultMaxHandshakes = 1024

// ListenWith listens for QUIC connections on the UDP address addr.
func ListenWith(addr string, tlsConf *tls.Config, cfg ListenConfig) (*Listener, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	pc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	hs := &handshakes{max: cfg.MaxHandshakes, log: cfg.Logger}
	if hs.max <= 0 {
		hs.max = DefaultMaxHandshakes
	}
	tr := &quic.Transport{
		Conn:                pc,
		StatelessResetKey:   cfg.ResetKey,
		ConnContext:         hs.start,
		VerifySourceAddress: hs.crowded,
	}
	qc := QUICConfig(cfg.Idle)
	if cfg.HandshakeTimeout > 0 {
		qc.HandshakeIdleTimeout = min(cfg.HandshakeTimeout, qc.MaxIdleTimeout)
	}
	// A receiver sends acknowledgements and short replies: probing for a
	// larger packet size would cost it more than it could ever save.
	qc.DisablePathMTUDiscovery = true
	ln, err := tr.Listen(tlsConf, qc)
	if err != nil {
		tr.Close()
		pc.Close()
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return &Listener{Listener: ln, tr: tr, hs: hs}, nil
}

// Accept waits for a connection whose handshake completed.
func (l *Listener) Accept(ctx context.Context) (*quic.Conn, error) {
	conn, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	l.hs.accepted(conn)
	return conn, nil
}

// Handshakes returns how many connections are held before their handshake
// completed (or, completed, before Accept returned them).
func (l *Listener) Handshakes() int { return int(l.hs.n.Load()) }

// Close stops accepting and closes the socket, ending every connection.
func (l *Listener) Close() error {
	l.Listener.Close()
	err := l.tr.Close()
	if cerr := l.tr.Conn.Close(); err == nil {
		err = cerr
	}
	return err
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

// SetReadDeadline bounds blocked reads.
func (s *Stream) SetReadDeadline(t time.Time) error { return s.s.SetReadDeadline(t) }

// SetWriteDeadline bounds blocked writes.
func (s *Stream) SetWriteDeadline(t time.Time) error { return s.s.SetWriteDeadline(t) }

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

// handshakes counts the connections a Listener holds from their first
// packet until Accept returns them or they end, and refuses new ones
// beyond max.
type handshakes struct {
	max int
	n   atomic.Int64
	log *slog.Logger

	mu      sync.Mutex
	refused int // since the last log line
	logged  time.Time
}

var errHandshakes = errors.New("transfer: too many handshakes in progress")

// handshakeKey is the context key of a counted connection's release func.
type handshakeKey struct{}

// start is the Transport's ConnContext, called for a connection's first
// packet: ctx ends when the connection does.
func (h *handshakes) start(ctx context.Context, _ *quic.ClientInfo) (context.Context, error) {
	if h.n.Add(1) > int64(h.max) {
		h.n.Add(-1)
		h.refuse()
		return nil, errHandshakes
	}
	release := sync.OnceFunc(func() { h.n.Add(-1) })
	context.AfterFunc(ctx, release)
	return context.WithValue(ctx, handshakeKey{}, release), nil
}

// crowded is the Transport's VerifySourceAddress: once half the handshakes
// are in use, a new one needs a Retry round trip first.
func (h *handshakes) crowded(net.Addr) bool {
	return h.n.Load() >= int64(h.max/2)
}

// accepted stops counting conn, whose handshake completed.
func (h *handshakes) accepted(conn *quic.Conn) {
	if release, ok := conn.Context().Value(handshakeKey{}).(func()); ok {
		release()
	}
}

func (h *handshakes) refuse() {
	if h.log == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refused++
	if time.Since(h.logged) < time.Minute {
		return
	}
	h.log.Warn("refusing new connections: too many handshakes in progress", "limit", h.max, "refused", h.refused)
	h.refused, h.logged = 0, time.Now()
}
