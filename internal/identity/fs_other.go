//go:build !unix

package identity

import "io/fs"

// checkKeyMode accepts any mode: outside unix, permission bits do not
// describe who may read the file.
func checkKeyMode(string, fs.FileMode) error { return nil }

// syncDir does nothing: outside unix a directory cannot be synced through
// an os.File.
func syncDir(string) error { return nil }
