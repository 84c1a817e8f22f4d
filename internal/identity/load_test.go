package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoadCreatesThenReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "identity")
	first, created, err := Load(dir)
	if err != nil || !created {
		t.Fatalf("first Load = created %v, %v; want created", created, err)
	}
	checkIdentity(t, first)
	second, created, err := Load(dir)
	if err != nil || created {
		t.Fatalf("second Load = created %v, %v; want loaded", created, err)
	}
	checkIdentity(t, second)
	if second.ID != first.ID {
		t.Errorf("reloaded ID %s, want %s", second.ID, first.ID)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{CertFile, KeyFile}; !slices.Equal(names, want) {
		t.Errorf("directory holds %q, want %q (no temporary files)", names, want)
	}
}

func TestNew(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	checkIdentity(t, a)
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID {
		t.Errorf("two new identities share ID %s", a.ID)
	}
}

// checkIdentity checks the shape of an identity's certificate.
func checkIdentity(t *testing.T, id *Identity) {
	t.Helper()
	if n := len(id.Cert.Certificate); n != 1 {
		t.Fatalf("%d certificates, want 1", n)
	}
	if got := IDOf(id.Cert.Certificate[0]); got != id.ID {
		t.Errorf("ID = %s, want IDOf(certificate) = %s", id.ID, got)
	}
	leaf := id.Cert.Leaf
	if leaf == nil {
		t.Fatal("Leaf not set")
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if years := leaf.NotAfter.Sub(leaf.NotBefore).Hours() / 24 / 365; years < 99 {
		t.Errorf("valid for %.1f years, want about 100", years)
	}
	if now := time.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		t.Errorf("not valid now: %v to %v", leaf.NotBefore, leaf.NotAfter)
	}
}

func TestLoadModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permission bits are not meaningful on Windows")
	}
	dir := filepath.Join(t.TempDir(), "id")
	if _, _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{
		dir:                          0o700,
		filepath.Join(dir, KeyFile):  0o600,
		filepath.Join(dir, CertFile): 0o644,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %#o, want %#o", path, got, want)
		}
	}
}

func TestLoadRefusesOpenKey(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permission bits are not meaningful on Windows")
	}
	for _, mode := range []fs.FileMode{0o640, 0o604, 0o660, 0o777} {
		dir := t.TempDir()
		if _, _, err := Load(dir); err != nil {
			t.Fatal(err)
		}
		key := filepath.Join(dir, KeyFile)
		if err := os.Chmod(key, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(dir)
		if err == nil {
			t.Errorf("mode %#o: Load succeeded, want refusal", mode)
			continue
		}
		for _, want := range []string{key, fmt.Sprintf("mode %#o", uint32(mode)), "chmod 600"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("mode %#o: error %q does not contain %q", mode, err, want)
			}
		}
	}
}

func TestLoadRefusesHalfIdentity(t *testing.T) {
	for _, keep := range []string{KeyFile, CertFile} {
		t.Run(keep, func(t *testing.T) {
			dir := t.TempDir()
			if _, _, err := Load(dir); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{KeyFile, CertFile} {
				if name != keep {
					if err := os.Remove(filepath.Join(dir, name)); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, _, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, keep)+" exists but") {
				t.Fatalf("Load = %v, want an error naming %s", err, keep)
			}
			if _, err := os.Stat(filepath.Join(dir, keep)); err != nil {
				t.Errorf("Load touched %s: %v", keep, err)
			}
		})
	}
}

func TestLoadRefusesMismatch(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if _, _, err := Load(dir); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := os.ReadFile(filepath.Join(b, CertFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a, CertFile), cert, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(a); err == nil || !strings.Contains(err.Error(), "private key does not match") {
		t.Fatalf("Load with another identity's certificate = %v, want a mismatch error", err)
	}
}

func TestPlaceNewKeepsExisting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFile)
	if err := os.WriteFile(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := writeFile(path, []byte("second"), 0o600, placeNew)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("writeFile over an existing key = %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "first" {
		t.Errorf("key now holds %q, want it untouched", got)
	}
}

// TestLoadConcurrentCreate checks that processes racing to create an
// identity never end up with one's key and the other's certificate.
func TestLoadConcurrentCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "id")
	type result struct {
		id      *Identity
		created bool
		err     error
	}
	results := make([]result, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			id, created, err := Load(dir)
			results[i] = result{id, created, err}
		})
	}
	wg.Wait()
	final, created, err := Load(dir)
	if err != nil || created {
		t.Fatalf("Load after the race = created %v, %v; want the identity loaded", created, err)
	}
	creators := 0
	for _, r := range results {
		switch {
		case r.err == nil:
			if r.id.ID != final.ID {
				t.Errorf("racer got ID %s, the directory holds %s", r.id.ID, final.ID)
			}
			if r.created {
				creators++
			}
		case !errors.Is(r.err, fs.ErrExist) && !strings.Contains(r.err.Error(), "exists but"):
			t.Errorf("racer error %v, want fs.ErrExist or a half-created identity", r.err)
		}
	}
	if creators != 1 {
		t.Errorf("%d racers created the identity, want 1", creators)
	}
}
