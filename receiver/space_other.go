//go:build !unix

package receiver

// freeSpace cannot tell here: Limits.MinFree is not enforced, and a full
// disk shows as a failed write.
func freeSpace(string) (int64, bool) { return 0, false }
