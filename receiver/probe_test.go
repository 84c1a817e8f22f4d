package receiver

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/transfer"
)

// TestAnswerProbe: a hub answers only probes sealed with a namespace's
// key, a few a second, and keeps the key across restarts.
func TestAnswerProbe(t *testing.T) {
	root := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	h := &Hub{Root: root, Allow: map[identity.ID]string{"A": "edge"}}
	t.Cleanup(h.closeStores)
	st, err := h.store("edge", log)
	if err != nil {
		t.Fatal(err)
	}
	k, err := st.ProbeKey()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(root, "edge", probeKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("probe key file: %v, %v; want mode 0600", fi, err)
	}
	ask := transfer.Probe{Entries: 1, Buckets: 1}
	for _, tt := range []struct {
		name string
		p    []byte
	}{
		{"unknown key", transfer.SealProbe(transfer.NewProbeKey(), ask)},
		{"known key ID, other key", transfer.SealProbe(transfer.ProbeKey{ID: k.ID, Key: [32]byte{1}}, ask)},
		{"not a probe", []byte("\x00fy? short")},
		{"an answer", transfer.SealAnswer(k, make([]byte, 12), transfer.ProbeAnswer{Holds: true})},
	} {
		if a := h.answerProbe(tt.p, log); a != nil {
			t.Errorf("%s: answered %d bytes; want silence", tt.name, len(a))
		}
	}
	p := transfer.SealProbe(k, ask)
	_, nonce, _ := transfer.OpenProbe(k, p)
	a := h.answerProbe(p, log)
	got, err := transfer.OpenAnswer(k, nonce, a)
	if err != nil || got.Holds {
		t.Fatalf("answer to a namespace without a restore point: %+v, %v; want does not hold", got, err)
	}
	answered := 1
	for range 10 {
		if h.answerProbe(transfer.SealProbe(k, ask), log) != nil {
			answered++
		}
	}
	if answered > probeBurst+1 {
		t.Errorf("answered %d probes in a burst; want at most %d", answered, probeBurst+1)
	}

	// A restarted hub reads the key back; a namespace no longer allowed
	// answers nothing.
	again, err := ReadProbeKey(filepath.Join(root, "edge"))
	if err != nil || again != k {
		t.Fatalf("key read back: %v; want the same key", err)
	}
	restarted := &Hub{Root: root, Allow: map[identity.ID]string{"A": "edge"}}
	t.Cleanup(restarted.closeStores)
	restarted.loadProbeKeys()
	if restarted.answerProbe(transfer.SealProbe(k, ask), log) == nil {
		t.Error("a restarted hub did not answer before the namespace's first session")
	}
	revoked := &Hub{Root: root, Allow: map[identity.ID]string{"B": "other"}}
	t.Cleanup(revoked.closeStores)
	revoked.loadProbeKeys()
	if a := revoked.answerProbe(transfer.SealProbe(k, ask), log); a != nil {
		t.Error("a hub whose allow list no longer names the namespace answered its probe")
	}
}
