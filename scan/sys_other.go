//go:build !unix

package scan

import "io/fs"

// fileID returns zeros: this platform's FileInfo carries no file identity.
// The cache then keys on path, size and modification time alone.
func fileID(fs.FileInfo) (dev, ino uint64) { return 0, 0 }

// syncDir does nothing: directories cannot be opened for fsync here, and
// the rename is durable once the file system commits it.
func syncDir(string) error { return nil }
