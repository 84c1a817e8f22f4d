package transfer

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"time"
)

// A probe asks a hub, in one UDP datagram each way and without a QUIC
// connection, whether it already holds a plan as its last complete restore
// point. An unchanged re-run then costs about 130 bytes instead of the 4 KB
// that the smallest QUIC handshake takes. The hub hands each device a
// probe key in the committed message of a session; the probe and its
// answer are sealed with it (AES-256-GCM), the answer is bound to the
// probe's nonce, and a hub ignores what it cannot open. A probe only reads:
// replaying one earns a sealed answer and changes nothing. The first byte
// of both datagrams has QUIC's fixed bit clear, so they share the hub's UDP
// port with QUIC.

// ProbeKey is a hub's key for one namespace's probes.
type ProbeKey struct {
	ID  [8]byte
	Key [32]byte
}

// String names the key by its ID only, so that logs and test output that
// print a committed message do not hold the secret.
func (k ProbeKey) String() string {
	if k.IsZero() {
		return "no probe key"
	}
	return fmt.Sprintf("probe key %x", k.ID)
}

// GoString is String, for %#v.
func (k ProbeKey) GoString() string { return k.String() }

// probeKeyMagic starts a file that keeps a probe key.
var probeKeyMagic = []byte("ferry probe key 1\n")

// MarshalBinary encodes k as the hub and the device keep it in a file.
func (k ProbeKey) MarshalBinary() ([]byte, error) {
	b := append([]byte(nil), probeKeyMagic...)
	b = append(b, k.ID[:]...)
	return append(b, k.Key[:]...), nil
}

// UnmarshalBinary decodes what MarshalBinary encoded.
func (k *ProbeKey) UnmarshalBinary(data []byte) error {
	rest, ok := bytes.CutPrefix(data, probeKeyMagic)
	if !ok || len(rest) != len(k.ID)+len(k.Key) {
		return errors.New("not a probe key file")
	}
	copy(k.ID[:], rest)
	copy(k.Key[:], rest[len(k.ID):])
	if k.IsZero() {
		return errors.New("probe key file holds no key")
	}
	return nil
}

// IsZero reports whether k is no key.
func (k ProbeKey) IsZero() bool { return k == ProbeKey{} }

// NewProbeKey returns a random key.
func NewProbeKey() ProbeKey {
	var k ProbeKey
	rand.Read(k.ID[:])
	rand.Read(k.Key[:])
	return k
}

// Datagram layout: magic (4), key ID (8), nonce (12), then the sealed
// payload with the first 24 bytes as additional data.
var (
	probeAsk    = []byte("\x00fy?")
	probeAnswer = []byte("\x00fy!")
)

const (
	probeHeader = 4 + 8 + 12
	// MaxProbe bounds a probe datagram.
	MaxProbe = 256
)

// ErrNotProbe is returned for a datagram that is not a probe or an answer.
var ErrNotProbe = errors.New("not a ferry probe")

// IsProbe reports whether a datagram is a probe (not QUIC, not an answer).
func IsProbe(p []byte) bool { return len(p) >= probeHeader && bytes.HasPrefix(p, probeAsk) }

// ProbeKeyID returns the key ID of a probe.
func ProbeKeyID(p []byte) ([8]byte, error) {
	if !IsProbe(p) {
		return [8]byte{}, ErrNotProbe
	}
	return [8]byte(p[4:12]), nil
}

// Probe is what a probe asks: does the last complete restore point digest
// as this plan, every bucket known?
type Probe struct {
	Entries uint64
	Buckets int
	Root    [16]byte
}

// ProbeAnswer is a hub's answer.
type ProbeAnswer struct {
	Holds     bool
	Committed Committed // when Holds
}

func seal(magic []byte, k ProbeKey, plain []byte) []byte {
	aead := newAEAD(k)
	b := append([]byte(nil), magic...)
	b = append(b, k.ID[:]...)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	b = append(b, nonce...)
	return aead.Seal(b, nonce, plain, b[:probeHeader])
}

func open(magic []byte, k ProbeKey, p []byte) ([]byte, error) {
	if len(p) < probeHeader || len(p) > MaxProbe || !bytes.HasPrefix(p, magic) {
		return nil, ErrNotProbe
	}
	if [8]byte(p[4:12]) != k.ID {
		return nil, errors.New("probe: sealed with another key")
	}
	plain, err := newAEAD(k).Open(nil, p[12:probeHeader], p[probeHeader:], p[:probeHeader])
	if err != nil {
		return nil, errors.New("probe: does not open with this key")
	}
	return plain, nil
}

func newAEAD(k ProbeKey) cipher.AEAD {
	b, err := aes.NewCipher(k.Key[:])
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return aead
}

// SealProbe seals a probe.
func SealProbe(k ProbeKey, m Probe) []byte {
	e := enc{}
	e.uvarint(m.Entries)
	e.uvarint(uint64(m.Buckets))
	e.bytes(m.Root[:])
	return seal(probeAsk, k, e.b)
}

// OpenProbe opens a probe sealed with k.
func OpenProbe(k ProbeKey, p []byte) (Probe, []byte, error) {
	plain, err := open(probeAsk, k, p)
	if err != nil {
		return Probe{}, nil, err
	}
	d := dec{b: plain}
	m := Probe{Entries: d.uvarint("entries"), Buckets: int(d.bounded("buckets", MaxBuckets))}
	copy(m.Root[:], d.fixed("root", len(m.Root)))
	if err := d.endAt("probe"); err != nil {
		return Probe{}, nil, err
	}
	if m.Buckets == 0 {
		return Probe{}, nil, errors.New("probe: no buckets")
	}
	return m, p[12:probeHeader], nil
}

// SealAnswer seals the answer to the probe whose nonce is asked.
func SealAnswer(k ProbeKey, asked []byte, a ProbeAnswer) []byte {
	e := enc{}
	e.bytes(asked)
	e.u8(boolByte(a.Holds))
	if a.Holds {
		e.b = a.Committed.Append(e.b)
	}
	return seal(probeAnswer, k, e.b)
}

// OpenAnswer opens the answer to the probe whose nonce is asked.
func OpenAnswer(k ProbeKey, asked, p []byte) (ProbeAnswer, error) {
	plain, err := open(probeAnswer, k, p)
	if err != nil {
		return ProbeAnswer{}, err
	}
	d := dec{b: plain}
	if !bytes.Equal(d.fixed("nonce", len(asked)), asked) && d.err == nil {
		return ProbeAnswer{}, errors.New("probe: answer to another probe")
	}
	a := ProbeAnswer{Holds: d.flag("holds")}
	if d.err != nil {
		return ProbeAnswer{}, d.err
	}
	if a.Holds {
		c, err := DecodeCommitted(d.rest())
		if err != nil {
			return ProbeAnswer{}, err
		}
		a.Committed = c
		return a, nil
	}
	return a, d.endAt("probe answer")
}

// ProbeTries is when a probe is sent, counted from the first try; the
// last entry is when the prober gives up. A hub that does not answer costs
// a run this long before it connects.
var ProbeTries = []time.Duration{0, 800 * time.Millisecond, 2 * time.Second}

// AskHub sends a probe to the hub at addr and waits for its answer,
// trying again per ProbeTries. It returns the answer and the UDP payload
// bytes sent and received, and an error if no answer came.
func AskHub(ctx context.Context, addr string, k ProbeKey, m Probe) (a ProbeAnswer, wire int, err error) {
	a, err = askHub(ctx, addr, k, m, &wire)
	return a, wire, err
}

func askHub(ctx context.Context, addr string, k ProbeKey, m Probe, wire *int) (ProbeAnswer, error) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return ProbeAnswer{}, fmt.Errorf("probe %s: %w", addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })
	defer stop()
	start := time.Now()
	buf := make([]byte, MaxProbe+1)
	var asked [][]byte
	for i := 0; i < len(ProbeTries)-1; i++ {
		p := SealProbe(k, m)
		asked = append(asked, p[12:probeHeader])
		if _, err := conn.Write(p); err != nil {
			return ProbeAnswer{}, fmt.Errorf("probe %s: %w", addr, err)
		}
		*wire += len(p)
		conn.SetReadDeadline(start.Add(ProbeTries[i+1]))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				if ctx.Err() != nil {
					return ProbeAnswer{}, ctx.Err()
				}
				if errors.Is(err, net.ErrClosed) {
					return ProbeAnswer{}, err
				}
				break // timed out or refused: try again
			}
			*wire += n
			// The answer may be to an earlier try.
			for _, nonce := range asked {
				if a, err := OpenAnswer(k, nonce, buf[:n]); err == nil {
					return a, nil
				}
			}
		}
	}
	return ProbeAnswer{}, fmt.Errorf("probe %s: no answer in %v", addr, ProbeTries[len(ProbeTries)-1])
}
