package identity

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File names inside the identity directory.
const (
	KeyFile  = "key.pem"  // PKCS #8 private key, mode 0600
	CertFile = "cert.pem" // self-signed certificate, mode 0644
)

// Load reads the identity kept in dir, creating dir (mode 0700) and a new
// identity if neither file exists; created reports whether it did. On unix,
// a key file that group or other may access is refused. If only one of the
// two files exists, Load refuses too rather than replace an identity that
// peers may already know.
func Load(dir string) (id *Identity, created bool, err error) {
	keyPath, certPath := filepath.Join(dir, KeyFile), filepath.Join(dir, CertFile)
	haveKey, err := exists(keyPath)
	if err != nil {
		return nil, false, err
	}
	haveCert, err := exists(certPath)
	if err != nil {
		return nil, false, err
	}
	switch {
	case haveKey && haveCert:
		id, err := load(keyPath, certPath)
		return id, false, err
	case haveKey || haveCert:
		have, missing := keyPath, certPath
		if haveCert {
			have, missing = certPath, keyPath
		}
		return nil, false, fmt.Errorf("identity: %s exists but %s does not; remove %s to create a new identity with a new ID", have, missing, have)
	}
	id, err = create(dir, keyPath, certPath)
	return id, err == nil, err
}

func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("identity: %w", err)
}

func load(keyPath, certPath string) (*Identity, error) {
	keyPEM, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("identity: load %s and %s: %w", certPath, keyPath, err)
	}
	if n := len(cert.Certificate); n != 1 {
		return nil, fmt.Errorf("identity: %s holds %d certificates, want 1", certPath, n)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("identity: parse %s: %w", certPath, err)
		}
	}
	return &Identity{Cert: cert, ID: IDOf(cert.Certificate[0])}, nil
}

// readKey reads the key file, checking its mode on the open file.
func readKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if err := checkKeyMode(path, fi.Mode()); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("identity: read %s: %w", path, err)
	}
	return b, nil
}

func create(dir, keyPath, certPath string) (*Identity, error) {
	_, err := os.Stat(dir)
	newDir := errors.Is(err, fs.ErrNotExist)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	key, der, err := generate()
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("identity: encode key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})

	// The key goes first and never replaces an existing file, so two
	// processes creating at once cannot pair one's key with the other's
	// certificate; the loser gets an error wrapping fs.ErrExist. The
	// certificate follows: a crash between the two leaves a key without a
	// certificate, which Load reports.
	if err := writeFile(keyPath, keyPEM, 0o600, placeNew); err != nil {
		return nil, err
	}
	if err := writeFile(certPath, certPEM, 0o644, os.Rename); err != nil {
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("identity: sync %s: %w", dir, err)
	}
	if newDir {
		parent := filepath.Dir(dir)
		if err := syncDir(parent); err != nil {
			return nil, fmt.Errorf("identity: sync %s: %w", parent, err)
		}
	}
	return fromDER(der, key)
}

// WriteSecret replaces the file at path with data, mode 0600, creating its
// directory (mode 0700) if needed: written to a temporary file, synced and
// renamed, so that a crash leaves the old file or the new one. Session
// tickets and a hub's probe key are kept this way.
func WriteSecret(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	return writeFile(path, data, 0o600, os.Rename)
}

// writeFile writes data to a temporary file next to path, syncs it and
// moves it into place with place.
func writeFile(path string, data []byte, perm fs.FileMode, place func(tmp, path string) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after placeNew the temporary name remains; after a rename this fails harmlessly
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = place(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("identity: write %s: %w", path, err)
	}
	return nil
}

// placeNew gives tmp the name path unless path exists. A hard link does that
// atomically; where links are not supported it falls back to a rename after
// checking, which leaves only a small window.
func placeNew(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	switch ok, xerr := exists(path); {
	case xerr != nil:
		return xerr
	case ok:
		return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	}
	return os.Rename(tmp, path)
}
