package identity

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// ALPN is the application protocol ferry peers negotiate.
const ALPN = "ferry/1"

// Sentinel errors wrapped by handshake refusals on the refusing side.
var (
	ErrUnknownPeer = errors.New("identity: unknown peer") // a hub refused a client
	ErrWrongHub    = errors.New("identity: wrong hub")    // a client refused a hub
)

// ServerConfig returns the TLS configuration for a hub. It demands a
// certificate from every client and admits the client only if allow
// reports true for its ID; a nil allow admits no one. allow runs during
// handshakes, possibly concurrently, and is the only place the hub learns
// of a refused peer: the listener never returns that connection.
//
// Resumed sessions are asked about too: the hub keeps its tickets in
// memory, honours each once, and only while allow still admits its peer
// (see Tickets).
func (i *Identity) ServerConfig(allow func(peer ID) bool) *tls.Config {
	tickets := &ticketStore{allow: allow, now: time.Now}
	return &tls.Config{
		MinVersion:    tls.VersionTLS13,
		Certificates:  []tls.Certificate{i.Cert},
		NextProtos:    []string{ALPN},
		ClientAuth:    tls.RequireAnyClientCert,
		WrapSession:   tickets.wrap,
		UnwrapSession: tickets.unwrap,
		// Runs on full and resumed handshakes alike, unlike
		// VerifyPeerCertificate.
		VerifyConnection: func(cs tls.ConnectionState) error {
			id, err := soleID(cs.PeerCertificates, ErrUnknownPeer)
			if err != nil {
				return err
			}
			if allow == nil || !allow(id) {
				return &refusal{fmt.Sprintf("identity: peer %s is not allowed", id), ErrUnknownPeer}
			}
			return nil
		},
	}
}

// ClientConfig returns the TLS configuration for dialing the hub known as
// hub. It presents i.Cert and accepts the server only if its certificate
// has that ID; an empty hub matches no server. Chains and names are not
// checked (InsecureSkipVerify), because the ID pin replaces them. It keeps
// the hub's session tickets in memory; set ClientSessionCache to a Tickets
// with a File to keep them between runs, and dial with ForDial.
func (i *Identity) ClientConfig(hub ID) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{i.Cert},
		NextProtos:   []string{ALPN},
		// Safe only together with the pin below, which nothing can turn off.
		InsecureSkipVerify: true,
		ClientSessionCache: &Tickets{},
		// Runs on full and resumed handshakes alike.
		VerifyConnection: func(cs tls.ConnectionState) error {
			id, err := soleID(cs.PeerCertificates, ErrWrongHub)
			if err != nil {
				return err
			}
			if hub == "" || id != hub {
				return &refusal{fmt.Sprintf("identity: hub presented ID %s, want %s", id, orNone(hub)), ErrWrongHub}
			}
			return nil
		},
	}
}

// PeerID returns the ID of the peer's leaf certificate in a completed
// handshake.
func PeerID(cs tls.ConnectionState) (ID, error) {
	if len(cs.PeerCertificates) == 0 {
		return "", errors.New("identity: peer presented no certificate")
	}
	return IDOf(cs.PeerCertificates[0].Raw), nil
}

// soleID returns the ID of the only certificate in certs.
func soleID(certs []*x509.Certificate, kind error) (ID, error) {
	if len(certs) != 1 {
		return "", &refusal{fmt.Sprintf("identity: peer presented %d certificates, want 1", len(certs)), kind}
	}
	return IDOf(certs[0].Raw), nil
}

func orNone(id ID) string {
	if id == "" {
		return "(none given)"
	}
	return id.String()
}

// A refusal is a handshake refusal whose text names the IDs involved and
// which wraps ErrUnknownPeer or ErrWrongHub.
type refusal struct {
	msg  string
	kind error
}

func (e *refusal) Error() string { return e.msg }
func (e *refusal) Unwrap() error { return e.kind }
