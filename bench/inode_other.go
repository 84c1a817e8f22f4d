//go:build !unix

package bench

import "io/fs"

func inode(fs.FileInfo) uint64 { return 0 }
