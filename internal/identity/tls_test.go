package identity

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"slices"
	"testing"
)

func mustNew(t *testing.T) *Identity {
	t.Helper()
	id, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestConfigs(t *testing.T) {
	id := mustNew(t)
	srv := id.ServerConfig(func(ID) bool { return true })
	cli := id.ClientConfig(id.ID)
	for name, c := range map[string]*tls.Config{"server": srv, "client": cli} {
		if c.MinVersion != tls.VersionTLS13 {
			t.Errorf("%s: MinVersion %#x, want TLS 1.3", name, c.MinVersion)
		}
		if !slices.Equal(c.NextProtos, []string{ALPN}) {
			t.Errorf("%s: NextProtos %q, want [%q]", name, c.NextProtos, ALPN)
		}
		if len(c.Certificates) != 1 || IDOf(c.Certificates[0].Certificate[0]) != id.ID {
			t.Errorf("%s: does not present the identity's certificate", name)
		}
		if c.VerifyConnection == nil {
			t.Errorf("%s: no VerifyConnection, which runs on resumed handshakes too", name)
		}
	}
	if srv.ClientAuth != tls.RequireAnyClientCert {
		t.Errorf("server ClientAuth %v, want RequireAnyClientCert", srv.ClientAuth)
	}
	if srv.WrapSession == nil || srv.UnwrapSession == nil {
		t.Error("server tickets are sealed state, not single-use names kept on the hub")
	}
	if !cli.InsecureSkipVerify {
		t.Error("client InsecureSkipVerify off; chain verification would reject every self-signed hub")
	}
}

func TestServerVerify(t *testing.T) {
	hub, known, stranger := mustNew(t), mustNew(t), mustNew(t)
	allowKnown := func(id ID) bool { return id == known.ID }
	tests := []struct {
		name    string
		allow   func(ID) bool
		certs   [][]byte
		wantErr string
	}{
		{"allowed", allowKnown, known.Cert.Certificate, ""},
		{"not allowed", allowKnown, stranger.Cert.Certificate, "identity: peer " + stranger.ID.String() + " is not allowed"},
		{"nil allow admits no one", nil, known.Cert.Certificate, "identity: peer " + known.ID.String() + " is not allowed"},
		{"two certificates", allowKnown, [][]byte{known.Cert.Certificate[0], stranger.Cert.Certificate[0]}, "identity: peer presented 2 certificates, want 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := hub.ServerConfig(tt.allow).VerifyConnection(tls.ConnectionState{PeerCertificates: parsed(t, tt.certs)})
			checkRefusal(t, err, tt.wantErr, ErrUnknownPeer)
		})
	}
}

func TestClientVerify(t *testing.T) {
	client, hub, other := mustNew(t), mustNew(t), mustNew(t)
	tests := []struct {
		name    string
		pin     ID
		certs   [][]byte
		wantErr string
	}{
		{"right hub", hub.ID, hub.Cert.Certificate, ""},
		{"wrong hub", other.ID, hub.Cert.Certificate, "identity: hub presented ID " + hub.ID.String() + ", want " + other.ID.String()},
		{"empty pin matches nothing", "", hub.Cert.Certificate, "identity: hub presented ID " + hub.ID.String() + ", want (none given)"},
		{"no certificate", hub.ID, nil, "identity: peer presented 0 certificates, want 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := client.ClientConfig(tt.pin).VerifyConnection(tls.ConnectionState{PeerCertificates: parsed(t, tt.certs)})
			checkRefusal(t, err, tt.wantErr, ErrWrongHub)
		})
	}
}

func parsed(t *testing.T, ders [][]byte) []*x509.Certificate {
	t.Helper()
	var certs []*x509.Certificate
	for _, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	return certs
}

func checkRefusal(t *testing.T, err error, wantMsg string, wantIs error) {
	t.Helper()
	if wantMsg == "" {
		if err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got nil, want %q", wantMsg)
	}
	if err.Error() != wantMsg {
		t.Errorf("got %q, want %q", err, wantMsg)
	}
	if !errors.Is(err, wantIs) {
		t.Errorf("errors.Is(%v, %v) = false", err, wantIs)
	}
}

func TestPeerID(t *testing.T) {
	id := mustNew(t)
	got, err := PeerID(tls.ConnectionState{PeerCertificates: []*x509.Certificate{id.Cert.Leaf}})
	if err != nil || got != id.ID {
		t.Errorf("PeerID = %q, %v; want %q", got, err, id.ID)
	}
	if got, err := PeerID(tls.ConnectionState{}); err == nil {
		t.Errorf("PeerID without certificates = %q, want an error", got)
	}
}
