// Package receiver owns the receiving side's storage: a namespace's live
// tree, its staging area, atomic placement of verified files, and the
// manifests that make each sync a restore point; and the hub that serves
// many senders, one namespace each.
//
// # Overview
//
// A namespace is a directory opened as an os.Root; nothing is created,
// followed or written outside it. Its state lives in .ferry/:
//
//	.ferry/staging/    files being received, named by a hash of their path
//	.ferry/manifests/  committed manifests, one per sequence number
//	.ferry/HEAD        the sequence of the last committed manifest
//	.ferry/trash/N/    what commit N removed or displaced from the live tree
//
// A file reaches its final path only after all its bytes matched the
// sender's BLAKE3, were fsynced, renamed into place and the directory was
// fsynced. A manifest is written last, to a temporary name, fsynced, renamed
// and its directory fsynced; HEAD follows the same way. Files the source no
// longer has leave the live tree only after that, into the trash.
package receiver
