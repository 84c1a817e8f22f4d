package transfer

import (
	"context"
	"net"
)

// ReadProbe waits for the next datagram on the listener's socket that is
// not QUIC: a probe, or noise (see OpenProbe).
func (l *Listener) ReadProbe(ctx context.Context, b []byte) (int, net.Addr, error) {
	return l.tr.ReadNonQUICPacket(ctx, b)
}

// WriteProbe sends a probe's answer from the listener's socket.
func (l *Listener) WriteProbe(b []byte, addr net.Addr) error {
	_, err := l.tr.WriteTo(b, addr)
	return err
}
