// Package identity owns this machine's key pair and the IDs by which peers
// know each other.
//
// # Overview
//
// Every ferry process has an [Identity]: an ECDSA P-256 key and a
// self-signed certificate valid for 100 years, whose names mean nothing.
// [Load] keeps it in a directory as key.pem (mode 0600) and cert.pem (mode
// 0644), creating both on first use; [New] makes one in memory. A peer is
// known only by its [ID], a digest of its certificate, so a hub admits a
// device by adding the device's ID to its allow list, and a device pins the
// hub's ID (design guarantee 6, "Only known peers").
//
// # IDs
//
// An ID is the first 155 bits of the SHA-256 digest of the certificate's DER
// encoding, written as 31 characters of the RFC 4648 base32 alphabet (A-Z,
// 2-7), followed by one Luhn mod 32 check character, and shown as 8 groups
// of 4:
//
//	XJ4B-NP4P-AHH6-UQKB-IDPF-3LRC-EOYA-GYN2
//
// The check character costs 5 of the 160 bits the digest could fill, and
// keeps the 32-character, 8-group shape. It catches every single mistyped
// character and every swap of two neighbours except "A7" with "7A".
// [ParseID] ignores case, dashes and white space, names the first character
// outside the alphabet (suggesting O, I or B for 0, 1 or 8), and reports a
// failed check as a mistyped ID. Forging a certificate for a given ID takes
// about 2^155 work.
//
// # Handshakes
//
// [Identity.ServerConfig] and [Identity.ClientConfig] give mutual TLS 1.3
// with the application protocol "ferry/1" ([ALPN]), as quic-go requires. Neither side checks names, chains or
// expiry: the hub asks its allow function about the client's ID, and the
// client compares the hub's ID with the one it was given. An empty hub ID or
// a nil allow function admits no one; there is no setting that turns the
// check off. Both checks run in VerifyConnection, which crypto/tls calls on
// resumed handshakes too.
//
// # Resumption
//
// A hub issues a session ticket on every connection; a device that holds
// one resumes with it: no certificates cross the link and the device offers
// X25519 alone (see [ForDial]). The hub keeps each ticket's state in memory
// and sends a random 16-byte name for it; a name works once, for at most 7
// days, and only while allow still admits the peer it was issued to, so a
// replayed first flight falls back to a full handshake that the replayer
// cannot finish, and removing a device from the allow list ends its
// resumptions at once. A restarted hub has forgotten every ticket. [Tickets]
// keeps the device's ticket for one hub, in memory and optionally in a
// file of mode 0600.
//
// # What each side sees when a handshake is refused
//
// Measured with quic-go v0.65.0 on 127.0.0.1 (quic_test.go keeps this true).
// quic-go reports a TLS failure as a *quic.TransportError whose ErrorCode is
// 0x100 plus the TLS alert. Only the refusing side has the reason, and only
// a refusing client can see it: Dial's error unwraps to [ErrWrongHub] and
// names both IDs. The refused side gets the alert code alone, since QUIC
// sends no reason text for TLS failures.
//
//	refusal                client sees                                  hub sees
//	client pins another    Dial fails: CRYPTO_ERROR 0x12a (local):      nothing; allow is not called
//	hub ID                 identity: hub presented ID X, want Y
//	                       (errors.Is(err, ErrWrongHub))
//	hub does not allow     Dial usually returns a connection, which     allow(ID) returned false;
//	the client's ID        then ends: CRYPTO_ERROR 0x12a (remote):      Accept never returns it
//	                       tls: bad certificate (alert 42)
//	client sends no        Dial usually returns a connection, which     nothing; allow is not called
//	certificate            then ends: CRYPTO_ERROR 0x174 (remote):
//	                       tls: certificate required (alert 116)
//
// In no case does the hub's Listener.Accept return the refused connection,
// so nothing is read from or written for an unknown peer, and
// [ErrUnknownPeer] never reaches hub code through quic-go: the allow
// function is the one place to log a refused ID. (The text the hub's TLS
// stack produces is "identity: peer X is not allowed".)
//
// A refused client usually completes Dial, because a TLS 1.3 client
// finishes its handshake before the server has checked the client's
// certificate. A successful Dial therefore does not mean admission: the
// refusal arrives about one round trip later as the error of the next
// stream operation and as context.Cause(conn.Context()). To tell "the hub
// refused us" from other failures, test for a *quic.TransportError with
// Remote set and ErrorCode 0x12a or 0x174.
package identity
