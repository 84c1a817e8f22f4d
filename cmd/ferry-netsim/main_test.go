package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/netsim"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// echoServer answers every datagram on 127.0.0.1 until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err == nil {
				conn.WriteToUDPAddrPort(buf[:n], from)
			}
		}
	})
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	return conn.LocalAddr().String()
}

func TestRunRelaysAndReports(t *testing.T) {
	upstream := echoServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	outR, outW := io.Pipe()
	var stderr bytes.Buffer
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"--upstream", upstream, "--delay", "20ms", "--rate", "1mbit", "--seed", "3"}, outW, &stderr)
		outW.Close()
	}()

	// The first stdout line is the bound address.
	sc := bufio.NewScanner(outR)
	if !sc.Scan() {
		t.Fatalf("no address on stdout: %v", <-errc)
	}
	go io.Copy(io.Discard, outR)
	addr, err := net.ResolveUDPAddr("udp", sc.Text())
	if err != nil {
		t.Fatalf("stdout line %q: %v", sc.Text(), err)
	}
	c, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.Write([]byte("hello"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("echo = %q, %v; want hello", buf[:n], err)
	}
	if rtt := time.Since(start); rtt < 40*time.Millisecond {
		t.Errorf("RTT = %v, want >= 40ms with --delay 20ms", rtt)
	}

	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("run = %v, want nil after cancel", err)
	}
	log := stderr.String()
	for _, want := range []string{"msg=relaying", "rate=1mbit", "msg=stats dir=up packets=1 bytes=5 forwarded=1", "dir=down"} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr lacks %q:\n%s", want, log)
		}
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"--help"}, &stdout, &stderr); err != nil {
		t.Fatalf("run --help = %v", err)
	}
	for _, flag := range []string{"--listen", "--upstream", "--rate", "--up-rate", "--down-rate", "--delay",
		"--jitter", "--reorder", "--loss", "--queue", "--seed", "--blackout", "--verbose", "kbit"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("help lacks %s", flag)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("help wrote to stderr: %q", stderr.String())
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"no upstream", nil},
		{"unknown flag", []string{"--upstream", "127.0.0.1:9", "--bogus"}},
		{"ambiguous rate", []string{"--upstream", "127.0.0.1:9", "--rate", "500k"}},
		{"loss out of range", []string{"--upstream", "127.0.0.1:9", "--loss", "1.5"}},
		{"bad queue", []string{"--upstream", "127.0.0.1:9", "--queue", "lots"}},
		{"bad blackout", []string{"--upstream", "127.0.0.1:9", "--blackout", "10s"}},
		{"positional", []string{"--upstream", "127.0.0.1:9", "extra"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, &stdout, &stderr)
			var u usageError
			if !errors.As(err, &u) {
				t.Errorf("run(%q) = %v, want a usageError", tt.args, err)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	o, err := parseArgs([]string{
		"--upstream", "127.0.0.1:4433", "--rate", "2mbit", "--down-rate", "8mbit",
		"--delay", "300ms", "--jitter", "10ms", "--loss", "0.01", "--queue", "32KiB",
		"--seed", "7", "--blackout", "10s+5s", "--blackout", "1m+500ms",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	base := netsim.Link{Delay: 300 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.01, QueueBytes: 32 << 10}
	wantUp, wantDown := base, base
	wantUp.Rate, wantDown.Rate = 250_000, 1_000_000
	want := options{
		listen: "127.0.0.1:0", upstream: "127.0.0.1:4433", up: wantUp, down: wantDown, seed: 7,
		blackouts: []netsim.Blackout{{At: 10 * time.Second, For: 5 * time.Second}, {At: time.Minute, For: 500 * time.Millisecond}},
	}
	if diff := cmp.Diff(want, o, cmp.AllowUnexported(options{})); diff != "" {
		t.Errorf("parseArgs mismatch (-want +got):\n%s", diff)
	}

	o, err = parseArgs([]string{"--upstream", "x:1", "--queue", "unlimited"}, io.Discard)
	if err != nil || o.up.QueueBytes != -1 || o.down.QueueBytes != -1 {
		t.Errorf("--queue unlimited: QueueBytes %d/%d, %v; want -1", o.up.QueueBytes, o.down.QueueBytes, err)
	}
}

func TestParseBlackout(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    netsim.Blackout
		wantErr bool
	}{
		{"10s+5s", netsim.Blackout{At: 10 * time.Second, For: 5 * time.Second}, false},
		{"0s+1m", netsim.Blackout{At: 0, For: time.Minute}, false},
		{"10s", netsim.Blackout{}, true},
		{"10s+0s", netsim.Blackout{}, true},
		{"-1s+5s", netsim.Blackout{}, true},
		{"soon+5s", netsim.Blackout{}, true},
	} {
		got, err := parseBlackout(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("parseBlackout(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
