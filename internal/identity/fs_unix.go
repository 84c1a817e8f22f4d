//go:build unix

package identity

import (
	"fmt"
	"io/fs"
	"os"
)

// checkKeyMode refuses a key file that group or other may access.
func checkKeyMode(path string, mode fs.FileMode) error {
	if perm := mode.Perm(); perm&0o077 != 0 {
		return fmt.Errorf("identity: key file %s has mode %#o, open to group or other; run chmod 600 %s", path, uint32(perm), path)
	}
	return nil
}

// syncDir makes the names just placed in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
