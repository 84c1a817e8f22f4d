package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"
)

// An Identity is this machine's key pair and the ID it is known by.
type Identity struct {
	Cert tls.Certificate // self-signed, with Leaf set
	ID   ID
}

// validity is how long a certificate is valid. Peers are pinned by ID, so
// expiry would only lock out a device that was never touched again.
const validity = 100 * 365 * 24 * time.Hour

// New returns a fresh identity held only in memory, for tests and local runs.
func New() (*Identity, error) {
	key, der, err := generate()
	if err != nil {
		return nil, err
	}
	return fromDER(der, key)
}

// generate makes a key and a self-signed certificate for it, in DER. The
// certificate's names mean nothing: peers check the ID, never a name or a
// chain.
func generate() (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("identity: generate key: %w", err)
	}
	der, err := selfSign(key, time.Now())
	if err != nil {
		return nil, nil, err
	}
	return key, der, nil
}

func selfSign(key *ecdsa.PrivateKey, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("identity: generate serial: %w", err)
	}
	notBefore := now.Add(-time.Hour).UTC().Truncate(time.Second) // tolerate clock skew
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "ferry"},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("identity: create certificate: %w", err)
	}
	return der, nil
}

func fromDER(der []byte, key *ecdsa.PrivateKey) (*Identity, error) {
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("identity: parse certificate: %w", err)
	}
	return &Identity{
		Cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		ID:   IDOf(der),
	}, nil
}

// ResetKey derives a secret from the private key that stays the same
// across restarts, for QUIC stateless resets: a restarted hub can then tell
// senders at once that their connection is gone. ok is false if the key
// is not one this package made.
func (i *Identity) ResetKey() (key [32]byte, ok bool) {
	priv, isECDSA := i.Cert.PrivateKey.(*ecdsa.PrivateKey)
	if !isECDSA {
		return key, false
	}
	d, err := priv.Bytes()
	if err != nil {
		return key, false
	}
	return sha256.Sum256(append([]byte("ferry stateless reset key\x00"), d...)), true
}
