//go:build !windows

package resume

import (
	"os"
	"path/filepath"
)

// syncDir fsyncs the directory holding name, making a creation or rename of
// name durable.
func syncDir(root *os.Root, name string) error {
	d, err := root.Open(filepath.Dir(name))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
