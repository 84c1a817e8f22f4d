package netsim

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// testTLS returns a server and a client TLS config around a throwaway
// self-signed certificate for 127.0.0.1.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	const proto = "ferry-netsim-test"
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		NextProtos:   []string{proto},
		MinVersion:   tls.VersionTLS13,
	}
	client = &tls.Config{RootCAs: pool, NextProtos: []string{proto}, MinVersion: tls.VersionTLS13}
	return server, client
}

// quicTransport returns a QUIC transport on its own 127.0.0.1 socket. It
// owns the socket so that closing it ends every goroutine quic-go started.
func quicTransport(t *testing.T) *quic.Transport {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: conn}
	t.Cleanup(func() { tr.Close(); conn.Close() })
	return tr
}

func TestQUICThroughLossyProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("transfers 1 MiB over an emulated 40 ms RTT link")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	srvTLS, cliTLS := testTLS(t)
	qconf := &quic.Config{HandshakeIdleTimeout: 10 * time.Second, MaxIdleTimeout: 20 * time.Second}
	ln, err := quicTransport(t).Listen(srvTLS, qconf)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	link := Link{Delay: 20 * time.Millisecond, Loss: 0.01}
	p := startProxy(t, Config{Upstream: ln.Addr().String(), Up: link, Down: link, Seed: 1})

	payload := make([]byte, 1<<20)
	rand.Read(payload)
	want := sha256.Sum256(payload)

	// The server reads the whole stream and answers with its SHA-256, then
	// holds the connection open until the client has the answer (closing
	// earlier would discard it).
	srvErr := make(chan error, 1)
	clientDone := make(chan struct{})
	go func() {
		srvErr <- func() error {
			conn, err := ln.Accept(ctx)
			if err != nil {
				return err
			}
			defer conn.CloseWithError(0, "")
			str, err := conn.AcceptStream(ctx)
			if err != nil {
				return err
			}
			h := sha256.New()
			if _, err := io.Copy(h, str); err != nil {
				return err
			}
			if _, err := str.Write(h.Sum(nil)); err != nil {
				return err
			}
			if err := str.Close(); err != nil {
				return err
			}
			select {
			case <-clientDone:
			case <-conn.Context().Done():
			case <-ctx.Done():
			}
			return nil
		}()
	}()

	start := time.Now()
	conn, err := quicTransport(t).Dial(ctx, p.Addr(), cliTLS, qconf)
	if err != nil {
		t.Fatal(err)
	}
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := str.Write(payload); err != nil {
		t.Fatal(err)
	}
	str.Close()
	got, err := io.ReadAll(str)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	close(clientDone)
	stats := conn.ConnectionStats()
	conn.CloseWithError(0, "done")
	if err := <-srvErr; err != nil {
		t.Fatalf("server: %v", err)
	}
	if !bytes.Equal(got, want[:]) {
		t.Fatalf("server digest %x, want %x", got, want)
	}

	s := p.Stats()
	t.Logf("1 MiB in %v; smoothed RTT %v; quic lost %d packets; proxy dropped up %d, down %d",
		elapsed.Round(time.Millisecond), stats.SmoothedRTT, stats.PacketsLost, s.Up.DroppedLoss, s.Down.DroppedLoss)
	if stats.MinRTT < 40*time.Millisecond {
		t.Errorf("QUIC min RTT = %v, want >= 40ms through the proxy", stats.MinRTT)
	}
	if s.Up.DroppedLoss == 0 {
		t.Errorf("proxy dropped nothing at 1%% loss: %+v", s.Up)
	}
}
