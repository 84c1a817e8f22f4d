package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering pins the import graph of DESIGN.md: cmd → agent, receiver →
// transfer, resume → prioritize → scan. scan and prioritize do no network
// I/O; agent never imports receiver; nothing but cmd imports agent or
// receiver.
func TestLayering(t *testing.T) {
	const mod = "github.com/ferrysync/ferry/"
	deny := map[string][]string{
		"scan":       {"prioritize", "transfer", "resume", "agent", "receiver", "cmd/", "github.com/quic-go/quic-go", "net"},
		"prioritize": {"transfer", "resume", "agent", "receiver", "cmd/", "github.com/quic-go/quic-go", "net"},
		"transfer":   {"resume", "agent", "receiver", "cmd/"},
		"resume":     {"transfer", "agent", "receiver", "cmd/"},
		"agent":      {"receiver", "resume", "cmd/"},
		"receiver":   {"agent", "cmd/"},
	}
	for pkg, denied := range deny {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, d := range denied {
				name := d
				if !strings.Contains(d, ".") && d != "net" {
					name = mod + d
				}
				if dep == name || (strings.HasSuffix(name, "/") && strings.HasPrefix(dep, name)) ||
					(d == "github.com/quic-go/quic-go" && strings.HasPrefix(dep, d)) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
