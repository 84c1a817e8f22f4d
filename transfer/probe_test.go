package transfer

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

var testProbeKey = ProbeKey{ID: [8]byte{1, 2, 3}, Key: [32]byte{4, 5, 6}}

func TestProbeRoundTrip(t *testing.T) {
	ask := Probe{Entries: 10_000, Buckets: 625, Root: [16]byte{7, 15: 8}}
	p := SealProbe(testProbeKey, ask)
	if !IsProbe(p) || p[0]&0x40 != 0 {
		t.Fatalf("probe % x: must not look like QUIC (fixed bit clear)", p[:4])
	}
	if id, err := ProbeKeyID(p); err != nil || id != testProbeKey.ID {
		t.Fatalf("ProbeKeyID = %x, %v", id, err)
	}
	got, nonce, err := OpenProbe(testProbeKey, p)
	if err != nil || got != ask {
		t.Fatalf("OpenProbe = %+v, %v; want %+v", got, err, ask)
	}
	want := ProbeAnswer{Holds: true, Committed: Committed{Seq: 9, Files: 10_000, Bytes: 1 << 30, Complete: true}}
	a := SealAnswer(testProbeKey, nonce, want)
	if IsProbe(a) {
		t.Fatal("an answer passes for a probe: it could be reflected back at a hub")
	}
	if got, err := OpenAnswer(testProbeKey, nonce, a); err != nil || got != want {
		t.Fatalf("OpenAnswer = %+v, %v; want %+v", got, err, want)
	}
	t.Logf("probe %d bytes, answer %d bytes", len(p), len(a))
	if len(p)+len(a) > 160 {
		t.Errorf("probe and answer take %d bytes, want at most 160", len(p)+len(a))
	}
}

func TestProbeRefusals(t *testing.T) {
	p := SealProbe(testProbeKey, Probe{Entries: 1, Buckets: 1})
	_, nonce, _ := OpenProbe(testProbeKey, p)
	other := ProbeKey{ID: testProbeKey.ID, Key: [32]byte{9}}
	flipped := bytes.Clone(p)
	flipped[len(flipped)-1] ^= 1
	a := SealAnswer(testProbeKey, nonce, ProbeAnswer{})
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"wrong key", second(OpenProbe(other, p)), "does not open"},
		{"tampered", second(OpenProbe(testProbeKey, flipped)), "does not open"},
		{"key of another namespace", second(OpenProbe(NewProbeKey(), p)), "another key"},
		{"an answer as a probe", second(OpenProbe(testProbeKey, a)), ErrNotProbe.Error()},
		{"a probe as an answer", secondA(OpenAnswer(testProbeKey, nonce, p)), ErrNotProbe.Error()},
		{"answer to another probe", secondA(OpenAnswer(testProbeKey, make([]byte, 12), a)), "another probe"},
		{"QUIC packet", second(OpenProbe(testProbeKey, append([]byte{0xc0}, p[1:]...))), ErrNotProbe.Error()},
		{"truncated", second(OpenProbe(testProbeKey, p[:20])), ErrNotProbe.Error()},
	} {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, tt.err, tt.want)
		}
	}
}

func second(_ Probe, _ []byte, err error) error { return err }
func secondA(_ ProbeAnswer, err error) error    { return err }

// TestAskHub: the prober sends again when an answer is lost, takes an
// answer to an earlier try, and gives up on time.
func TestAskHub(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, MaxProbe)
		for i := 0; ; i++ {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if i == 0 {
				continue // the first probe is lost
			}
			_, nonce, err := OpenProbe(testProbeKey, buf[:n])
			if err != nil {
				return
			}
			pc.WriteTo(SealAnswer(testProbeKey, nonce, ProbeAnswer{Holds: true, Committed: Committed{Seq: 4, Complete: true}}), addr)
		}
	}()
	a, wire, err := AskHub(t.Context(), pc.LocalAddr().String(), testProbeKey, Probe{Entries: 1, Buckets: 1})
	if err != nil || !a.Holds || a.Committed.Seq != 4 {
		t.Fatalf("AskHub = %+v, %v; want the answer to the second try", a, err)
	}
	if wire < 150 || wire > 200 {
		t.Errorf("AskHub counted %d bytes for two probes and an answer", wire)
	}

	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = AskHub(ctx, silent.LocalAddr().String(), testProbeKey, Probe{Entries: 1, Buckets: 1})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("AskHub to a silent hub with a 100 ms context: %v after %v; want the deadline, promptly", err, time.Since(start))
	}
}

// FuzzProbe: no datagram makes the decoders panic, and only what the key
// sealed opens.
func FuzzProbe(f *testing.F) {
	p := SealProbe(testProbeKey, Probe{Entries: 3, Buckets: 1, Root: [16]byte{1}})
	_, nonce, _ := OpenProbe(testProbeKey, p)
	f.Add(p)
	f.Add(SealAnswer(testProbeKey, nonce, ProbeAnswer{Holds: true, Committed: Committed{Seq: 2, Complete: true}}))
	f.Add([]byte("\x00fy?"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > MaxProbe {
			return
		}
		ProbeKeyID(b)
		if m, _, err := OpenProbe(testProbeKey, b); err == nil && m.Buckets == 0 {
			t.Fatal("probe of no buckets opened")
		}
		OpenAnswer(testProbeKey, nonce, b)
	})
}
