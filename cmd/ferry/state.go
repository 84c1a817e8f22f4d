package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
)

// stateFlag adds --state, whose default comes from FERRY_STATE or the user
// config directory.
func stateFlag(fs *pflag.FlagSet) *string {
	return fs.String("state", "", "state directory for this machine's identity and hash cache (default $FERRY_STATE, else the user config dir + /ferry)")
}

func stateDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv("FERRY_STATE"); env != "" {
		return env, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find a state directory (set --state or FERRY_STATE): %w", err)
	}
	return filepath.Join(dir, "ferry"), nil
}

// cacheFile returns the hash cache for a source tree: one per absolute
// source path, in the state directory.
func cacheFile(state, src string) (string, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	dir := filepath.Join(state, "cache")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create hash cache directory: %w", err)
	}
	return filepath.Join(dir, hex.EncodeToString(sum[:8])), nil
}
