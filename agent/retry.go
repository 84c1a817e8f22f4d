package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/transfer"
)

// Backoff says how a sync retries after losing its connection: exponential
// back-off from Min to Max with full jitter, for at most For after the
// first failure. The zero value does not retry.
type Backoff struct {
	// Min is the first wait. If zero, defaults to 1s.
	Min time.Duration
	// Max caps each wait. If zero, defaults to 1 minute.
	Max time.Duration
	// For is how long to keep trying after the first failure; zero means
	// no retries.
	For time.Duration
}

// next returns the wait before attempt n+1, and false when the time is up.
func (b Backoff) next(n int, failing time.Duration) (time.Duration, bool) {
	if b.For <= 0 || failing >= b.For {
		return 0, false
	}
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = time.Minute
	}
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	// Full jitter over the upper half keeps a fleet of devices that lost
	// the hub together from coming back together.
	d = d/2 + rand.N(d/2+1)
	return min(d, b.For-failing), true
}

// Retryable reports whether a failed attempt may succeed if tried again:
// lost or refused connections, timeouts, a restarted or busy receiver. Not:
// the wrong hub, a peer that does not admit us, protocol or version
// mismatches, or a cancelled run.
func Retryable(err error) bool {
	var (
		re *transfer.RemoteError
		te *quic.TransportError
		ve *tls.CertificateVerificationError
	)
	switch {
	case errors.Is(err, context.Canceled),
		errors.Is(err, identity.ErrWrongHub),
		errors.As(err, &ve),
		errors.Is(err, transfer.ErrVersion),
		errors.Is(err, transfer.ErrProtocol),
		errors.Is(err, transfer.ErrMalformed),
		errors.Is(err, transfer.ErrUnknownType),
		errors.Is(err, transfer.ErrFrameTooLarge):
		return false
	case errors.As(err, &re):
		return re.Retry()
	case errors.As(err, &te):
		// TLS alerts travel as CRYPTO_ERROR 0x100+alert: bad certificate
		// and certificate required mean the hub does not admit us.
		return te.ErrorCode < 0x100 || te.ErrorCode > 0x1ff
	}
	return true
}

// NotAdmitted reports whether err says the hub refused this device's
// identity.
func NotAdmitted(err error) bool {
	var te *quic.TransportError
	return errors.As(err, &te) && te.Remote && (te.ErrorCode == 0x12a || te.ErrorCode == 0x174)
}
