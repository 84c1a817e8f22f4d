package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
)

// TestDelta: a small edit in a large file the receiver holds costs the
// changed blocks and the block list, not the file; so does an insertion
// near the start, because block boundaries follow the content.
func TestDelta(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		edit  func([]byte) []byte
		bound int64 // UDP payload bytes, both ways, handshake included
	}{
		{"4 KiB overwritten in 8 MiB", 8 << 20, func(b []byte) []byte {
			copy(b[4<<20:], make([]byte, 4096))
			return b
		}, 40_000},
		{"4 KiB overwritten in 64 MiB", 64 << 20, func(b []byte) []byte {
			copy(b[32<<20:], make([]byte, 4096))
			return b
		}, 64_000},
		{"4 KiB of new data in 8 MiB", 8 << 20, func(b []byte) []byte {
			copy(b[3<<20:], randomBytes("edit", 9, 4096))
			return b
		}, 40_000},
		{"100 bytes inserted near the start of 8 MiB", 8 << 20, func(b []byte) []byte {
			return append(append(append([]byte(nil), b[:5000]...), make([]byte, 100)...), b[5000:]...)
		}, 40_000},
	}
	dev, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() && tt.size > 8<<20 {
				t.Skip("large file")
			}
			src := t.TempDir()
			build(t, src, []node{{path: "db/events.dat", size: tt.size}})
			h := startHub(t, map[identity.ID]string{dev.ID: "edge"})
			m := meterWire(t, h.addr)
			connect := agent.QUIC(m.addr, dev.ClientConfig(h.id.ID), 0)
			if _, err := sendOpt(t, agent.Options{Source: src}, connect); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(src, "db/events.dat")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, tt.edit(data), 0o644); err != nil {
				t.Fatal(err)
			}
			var rep agent.Report
			wire := m.during(func() {
				rep, err = sendOpt(t, agent.Options{Source: src}, connect)
			})
			if err != nil {
				t.Fatal(err)
			}
			sameTree(t, src, filepath.Join(h.root, "edge"))
			t.Logf("%d bytes of UDP payload, %d data bytes sent", wire, rep.PayloadBytes)
			if wire > tt.bound {
				t.Errorf("edit cost %d bytes of UDP payload, want at most %d", wire, tt.bound)
			}
		})
	}
}
