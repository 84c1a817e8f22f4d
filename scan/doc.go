// Package scan walks a source tree, matches include/exclude patterns and
// hashes files with BLAKE3, keeping a cache so unchanged files are not read
// again.
//
// # Overview
//
// [Tree] stats the tree and returns one [Entry] per file, directory and
// symlink, sorted by path; it never reads file contents. Entries matching an
// exclude [Pattern] are left out, and an excluded directory is not descended.
//
// Hashing is separate and "just in time": a sender calls [Hasher.Hash] for
// file N+1 while file N is on the wire, never for the whole tree up front.
// Hash re-checks the file against its Entry before and after reading it and
// reports [ErrChanged] when the file moved under it. A [Cache] remembers the
// sums of files whose identity, size and modification time are unchanged.
//
// Paths in this package are slash-separated and relative to the root.
package scan
