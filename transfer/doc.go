// Package transfer owns ferry's wire protocol: the frames both ends speak, the
// sender that streams a plan over them in order, and the receiver side that
// checks every frame before handing it to storage.
//
// # Overview
//
// A session is one ordered byte stream (a QUIC stream in a network sync, an
// in-memory pipe for a local destination, a file on removable media later).
// Every message is a frame: a one-byte type, a four-byte big-endian length and
// a payload whose size is bounded per type, checked before anything is
// allocated. PROTOCOL.md in this directory is the specification.
//
// The sender offers files in plan order, a bounded window ahead of the data;
// the receiver answers each offer (skip, or send from an offset), and the
// sender streams the wanted files one after another in chunks, each chunk
// carrying the BLAKE3 of its bytes. After the last file the sender asks for a
// commit and the receiver answers with the restore point it wrote.
//
// The framing knows nothing of QUIC: Dial and Listen add the QUIC connection,
// tuned for slow, lossy links, around the same Sender and Receiver.
package transfer
