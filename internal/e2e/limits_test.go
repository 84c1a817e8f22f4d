package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/receiver"
	"github.com/ferrysync/ferry/transfer"
)

// TestHubLimits: a namespace's quota, the largest file and the entries
// per session are enforced with an error that names the limit, and
// nothing past them is placed.
func TestHubLimits(t *testing.T) {
	dev, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		limits receiver.Limits
		want   error
		say    string
	}{
		{"file too large", receiver.Limits{MaxFileSize: 10_000}, transfer.ErrRefused, "largest file"},
		{"quota", receiver.Limits{Quota: 30_000}, transfer.ErrNoSpace, "quota"},
		{"entries", receiver.Limits{MaxEntries: 3}, transfer.ErrRefused, "entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			build(t, src, []node{
				{path: "a.txt", data: "a"}, {path: "b.txt", data: "b"},
				{path: "big/one.bin", size: 20_000}, {path: "big/two.bin", size: 20_000},
			})
			h := startHub(t, map[identity.ID]string{dev.ID: "edge"}, func(rh *receiver.Hub) { rh.Limits = tt.limits })
			_, err := sendOpt(t, agent.Options{Source: src}, agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.say) {
				t.Fatalf("got %v, want %v saying %q", err, tt.want, tt.say)
			}
			if agent.Retryable(err) && tt.want == transfer.ErrRefused {
				t.Errorf("a refusal is retryable: %v", err)
			}
		})
	}
}

// TestFrameTimeout: a peer that starts a frame and trickles the rest is
// cut off by the frame timeout, while the connection itself stays alive.
func TestFrameTimeout(t *testing.T) {
	dev, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	h := startHub(t, map[identity.ID]string{dev.ID: "edge"}, func(rh *receiver.Hub) { rh.FrameTimeout = 500 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, s, err := transfer.Dial(ctx, h.addr, dev.ClientConfig(h.id.ID), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer transfer.Finish(conn, nil)
	fw := transfer.NewFrameWriter(s)
	fw.WriteFrame(transfer.TypeHello, transfer.Hello{MinVersion: 1, MaxVersion: 1}.Append(nil))
	fw.Flush()
	// The header of a 100-byte offer, then a byte every 200 ms: the
	// connection is never idle, but the frame would take 20 s.
	start := time.Now()
	s.Write([]byte{byte(transfer.TypeOffer), 0, 0, 0, 100})
	fr := transfer.NewFrameReader(s)
	if typ, _, err := fr.ReadFrame(); err != nil || typ != transfer.TypeWelcome {
		t.Fatalf("welcome: %v %v", typ, err)
	}
	go func() {
		for ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
			s.Write([]byte{0})
		}
	}()
	typ, p, err := fr.ReadFrame()
	if err != nil || typ != transfer.TypeError {
		t.Fatalf("got %v %v, want an error frame", typ, err)
	}
	m, _ := transfer.DecodeError(p)
	if !strings.Contains(m.Message, "no whole frame") || time.Since(start) > 5*time.Second {
		t.Errorf("after %v: %q", time.Since(start), m.Message)
	}
}
