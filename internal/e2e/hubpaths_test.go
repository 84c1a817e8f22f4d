package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/transfer"
)

// TestHubPathsStayOnTheHub: when a namespace cannot be opened, the sender
// learns that the hub's storage failed, not where the hub keeps its data.
func TestHubPathsStayOnTheHub(t *testing.T) {
	dev := mustIdentity(t)
	root := t.TempDir()
	// A file where the namespace's state directory belongs.
	if err := os.MkdirAll(filepath.Join(root, "edge"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "edge", transfer.StateDir), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, stop := serveHub(t, root, map[identity.ID]string{dev.ID: "edge"})
	defer stop()
	src := t.TempDir()
	build(t, src, []node{{path: "a.txt", data: "a"}})
	_, err := sendOpt(t, agent.Options{Source: src}, agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0))
	if err == nil {
		t.Fatal("sync into a broken namespace succeeded")
	}
	t.Logf("sender saw: %v", err)
	if strings.Contains(err.Error(), root) {
		t.Errorf("the sender's error names the hub's directory %s: %v", root, err)
	}
	if !strings.Contains(err.Error(), "open namespace edge") || !errors.Is(err, agent.ErrNothingCommitted) {
		t.Errorf("error %q: want it to name the namespace and that nothing was committed", err)
	}
}
