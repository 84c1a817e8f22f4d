// Package resume owns the receiver's write-ahead journal: the durable record
// of which chunks of which staged files were verified, which files were
// placed and which restore points were reached, and the replay that tells a
// sender where to continue.
//
// # Overview
//
// A receiver opens its namespace's journal (Open, e.g. ".ferry/journal"),
// which returns every record in it after cutting off a torn tail, and folds
// the records into a State (Replay). State.Offset answers a sender's offer of
// a file, by path and content hash, with the prefix it need not send again.
//
// While receiving, the journal only ever follows the data (write-ahead,
// DESIGN guarantee 3):
//
//   - chunk data is written to the staging file and verified; a Grouper says
//     when a group of chunks is over, and then the staging files are fsynced
//     and the group's KindChunk records appended with one Append, which
//     returns after its own fsync;
//   - a finished file is placed (fsync, rename, fsync of the directory), then
//     KindPlaced is appended; a staging file is discarded, then KindDropped;
//   - a priority class finished is journaled as KindClassDone, a lightweight
//     restore point;
//   - the manifest is committed, then KindCommit is appended, and the journal
//     is compacted: Rewrite(Replay(records).Records()).
//
// The receiver must journal KindDropped before it truncates or replaces a
// staging file whose chunks were journaled, so that no record describes bytes
// that are gone. Even so it checks, on resume, that a staging file exists and
// holds at least Offset bytes, and starts the file over if not: a journal
// damaged by something other than a crash may lose records, which costs
// re-sending but must never cost correctness.
//
// # Format
//
// The journal is a sequence of frames, each one record, appended and never
// changed in place:
//
//	u32 length    payload bytes, little endian; 3 to MaxPayload
//	u32 checksum  CRC-32C (Castagnoli) of the payload, little endian
//	payload:
//	  u8      version (1)
//	  u8      kind
//	  varint  time (zig-zag), unix nanoseconds
//	  chunk, placed, dropped:  uvarint path length (at most MaxPath), path,
//	                           [32]byte file hash; chunk only: uvarint offset
//	  class-done:              u8 class, uvarint seq
//	  commit:                  uvarint seq
//
// Decode accepts exactly what Encode writes: a known version and kind, the
// fields of that kind and nothing after them, canonical varints and a valid
// slash-separated relative path, so a record always reads back as written.
package resume
