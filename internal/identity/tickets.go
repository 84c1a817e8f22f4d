package identity

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Session resumption lets a device that synced with a hub before skip the
// certificates and the post-quantum key share: an unchanged re-run then
// costs about 4 KB instead of 9.
//
// A hub keeps the state of each ticket it issued in memory and sends only a
// random name for it, so a ticket costs 16 bytes on the wire instead of the
// client's certificate and secrets sealed, and each ticket works once: a
// replayed first flight finds its ticket gone and falls back to a full
// handshake, which the replayer cannot finish (which would also make 0-RTT
// data safe to act on). A hub restart forgets every ticket; the next
// handshake of each device is a full one.

// ticketLifetime bounds how long a hub honours a ticket, as crypto/tls does.
const ticketLifetime = 7 * 24 * time.Hour

// maxTickets bounds the tickets a hub remembers (about 1 KiB each); past
// it, the oldest go first.
const maxTickets = 1 << 16

// ticketNameLen is the size of a ticket on the wire.
const ticketNameLen = 16

type ticketName [ticketNameLen]byte

// A ticketStore is a hub's memory of the tickets it issued.
type ticketStore struct {
	allow func(ID) bool
	now   func() time.Time

	mu    sync.Mutex
	live  map[ticketName]ticket
	order []ticketName // issue order, for eviction; may name used tickets
}

type ticket struct {
	peer   ID
	issued time.Time
	state  []byte // tls.SessionState.Bytes
}

// wrap is tls.Config.WrapSession.
func (s *ticketStore) wrap(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
	peer, err := PeerID(cs)
	if err != nil {
		return nil, err
	}
	state, err := ss.Bytes()
	if err != nil {
		return nil, err
	}
	var name ticketName
	rand.Read(name[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live == nil {
		s.live = make(map[ticketName]ticket)
	}
	s.live[name] = ticket{peer: peer, issued: s.now(), state: state}
	s.order = append(s.order, name)
	for len(s.live) > maxTickets {
		delete(s.live, s.order[0])
		s.order = s.order[1:]
	}
	if len(s.order) > 2*maxTickets {
		// Drop the names of tickets already used.
		kept := s.order[:0]
		for _, n := range s.order {
			if _, ok := s.live[n]; ok {
				kept = append(kept, n)
			}
		}
		s.order = kept
	}
	return name[:], nil
}

// unwrap is tls.Config.UnwrapSession. A ticket works once, only within its
// lifetime, and only while its peer is still allowed; otherwise the
// handshake goes on without resumption.
func (s *ticketStore) unwrap(label []byte, _ tls.ConnectionState) (*tls.SessionState, error) {
	if len(label) != ticketNameLen {
		return nil, nil
	}
	name := ticketName(label)
	s.mu.Lock()
	t, ok := s.live[name]
	delete(s.live, name)
	s.mu.Unlock()
	if !ok || s.now().Sub(t.issued) > ticketLifetime || s.allow == nil || !s.allow(t.peer) {
		return nil, nil
	}
	ss, err := tls.ParseSessionState(t.state)
	if err != nil {
		return nil, nil
	}
	return ss, nil
}

// Tickets keeps a device's latest session ticket for one hub: in memory,
// and in File too if it is set, so that the next run resumes. Use one
// Tickets per hub; it ignores crypto/tls's cache keys. Its methods are safe
// for concurrent use.
//
// A ticket file lets whoever reads it resume as this device with this hub
// until the hub forgets the ticket, as the key file does forever: it is
// written with mode 0600 into a directory of mode 0700.
type Tickets struct {
	// File, if set, is where the ticket is kept between runs.
	File string

	mu     sync.Mutex
	loaded bool
	cs     *tls.ClientSessionState
}

var _ tls.ClientSessionCache = (*Tickets)(nil)

// ticketMagic starts a ticket file.
var ticketMagic = []byte("ferry ticket 1\n")

// Get returns the ticket, if there is one.
func (t *Tickets) Get(string) (*tls.ClientSessionState, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.load()
	return t.cs, t.cs != nil
}

// Put replaces the ticket; a nil cs forgets it.
func (t *Tickets) Put(_ string, cs *tls.ClientSessionState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.loaded = true
	t.cs = cs
	if t.File == "" {
		return
	}
	// A ticket that cannot be kept costs the next run a full handshake,
	// nothing more, so errors here are dropped.
	if cs == nil {
		os.Remove(t.File)
		return
	}
	if data, err := encodeTicket(cs); err == nil {
		WriteSecret(t.File, data)
	}
}

// Has reports whether a ticket is at hand.
func (t *Tickets) Has() bool {
	_, ok := t.Get("")
	return ok
}

func (t *Tickets) load() {
	if t.loaded {
		return
	}
	t.loaded = true
	if t.File == "" {
		return
	}
	data, err := os.ReadFile(t.File)
	if err != nil {
		return
	}
	if cs, err := decodeTicket(data); err == nil {
		t.cs = cs
	} else {
		os.Remove(t.File)
	}
}

func encodeTicket(cs *tls.ClientSessionState) ([]byte, error) {
	label, ss, err := cs.ResumptionState()
	if err != nil || ss == nil {
		return nil, fmt.Errorf("no resumption state: %w", err)
	}
	state, err := ss.Bytes()
	if err != nil {
		return nil, err
	}
	b := append([]byte(nil), ticketMagic...)
	b = binary.AppendUvarint(b, uint64(len(label)))
	b = append(b, label...)
	return append(b, state...), nil
}

func decodeTicket(data []byte) (*tls.ClientSessionState, error) {
	rest, ok := bytes.CutPrefix(data, ticketMagic)
	if !ok {
		return nil, errors.New("not a ticket file")
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) {
		return nil, errors.New("truncated ticket file")
	}
	label, state := rest[k:k+int(n)], rest[k+int(n):]
	ss, err := tls.ParseSessionState(state)
	if err != nil {
		return nil, err
	}
	return tls.NewResumptionState(bytes.Clone(label), ss)
}

// ForDial returns the TLS configuration for one connection made with conf,
// and a function to call with whether its handshake resumed a session.
//
// When conf holds a ticket, the connection offers only X25519 for its key
// exchange: the hybrid post-quantum share does not fit a 1200-byte first
// packet beside a ticket. A resumed session's keys depend on the earlier
// handshake's secret as well as on this exchange, so it keeps that
// handshake's post-quantum protection. If the hub refuses the ticket, the
// handshake goes on with X25519 alone; the ticket that connection brings is
// then dropped, so that the next connection makes a full hybrid handshake
// rather than build a chain of tickets on a classical exchange.
func ForDial(conf *tls.Config) (*tls.Config, func(resumed bool)) {
	t, ok := conf.ClientSessionCache.(*Tickets)
	if !ok || !t.Has() {
		return conf, func(bool) {}
	}
	d := &dialTickets{t: t}
	c := conf.Clone()
	c.CurvePreferences = []tls.CurveID{tls.X25519}
	c.ClientSessionCache = d
	return c, d.settle
}

// dialTickets passes the ticket cache through for one connection that
// offered X25519 only, holding back new tickets until it is known whether
// the handshake resumed.
type dialTickets struct {
	t *Tickets

	mu      sync.Mutex
	settled bool
	resumed bool
	pending *tls.ClientSessionState
	put     bool
}

func (d *dialTickets) Get(key string) (*tls.ClientSessionState, bool) { return d.t.Get(key) }

func (d *dialTickets) Put(key string, cs *tls.ClientSessionState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case cs == nil:
		d.t.Put(key, nil)
	case !d.settled:
		d.pending, d.put = cs, true
	case d.resumed:
		d.t.Put(key, cs)
	}
}

func (d *dialTickets) settle(resumed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.settled {
		return
	}
	d.settled, d.resumed = true, resumed
	switch {
	case !resumed:
		d.t.Put("", nil)
	case d.put:
		d.t.Put("", d.pending)
	}
	d.pending = nil
}
