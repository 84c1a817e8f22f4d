// Package bench is ferry's comparison benchmark: ferry against rsync over ssh
// (with and without -z, and on the large-file set without --partial) on the
// same emulated thin link, in one session, with ratios computed pair by
// pair. The command is bench/cmd/ferry-bench, run as root through
// `go tool task bench` (see the [bench] issue for the spec).
//
// # What a session does
//
//  1. Installs what is missing (rsync, openssh-server, iproute2) with apt-get,
//     after saying so, and builds ferry and ferry-netsim from the checkout.
//  2. Generates the seeded data set (Dataset): a few dozen small critical
//     files under zz-site/ (a directory that sorts last), thousands of small
//     compressible logs, a few incompressible media files of a few MiB and
//     two 8 MiB database-like files. Scale 1 is about 1,500 files and
//     59.5 MB (the reference: 1,542 files, 61 MB). For presets
//     with interruption runs, also the large-file set (NewLargeDataset):
//     four files, about 38 MB at scale 1, sized per preset (LargeScale).
//  3. Joins two network namespaces (fb-src, fb-dst) with a veth pair and
//     shapes both ends with tbf at the preset's rate (Link). The host's
//     filesystem is shared by both namespaces, so the benchmark sees the
//     destination directory directly.
//  4. For every repetition and contender, in a rotating order: an initial
//     sync into an empty destination, an unchanged re-run, and a 4 KiB edit in
//     the middle of an 8 MiB file; then one interruption run per contender;
//     then, on the large-file set, an uninterrupted first sync and an
//     interruption run per contender.
//     A Poller watches the destination from outside every 50 ms, comparing
//     each final path with the source (size, then BLAKE3), to time the
//     critical files and to catch any partial file at a final path. Every run
//     ends with Verify; a wrong tree makes the run FAILED, not timed.
//  5. Wire bytes are the veth's byte counters (both directions, Ethernet
//     frames) read before and after each run, so both contenders are
//     measured the same way, protocol overhead included.
//  6. Prints a markdown table (Report) and writes it, with the raw runs as
//     JSON, to bench/results/<timestamp>-<preset>.{md,json}.
//
// # The interruption run
//
// The destination starts empty. Once the veth counters show half of the
// contender's usual wire bytes (the median of its initial runs this
// session), both veth ends go down (ip link set down), the sender's process
// group is killed with SIGKILL a second later, the link comes back, the
// contender's Settle waits for the receiving side (rsync's server keeps its
// partial file with --partial once the client's FIN arrives), and a second
// sync runs to the end. Reported: wire bytes over both attempts, divided by
// the data set and by the contender's own uninterrupted run, and whether the
// poller ever saw a partial file at a final path during either attempt.
//
// The same run on the large-file set cuts at half of the contender's
// uninterrupted sync of that set, taken just before. There the file in
// flight at the cut is several MiB, and what a tool keeps of it decides the
// second attempt's cost; rsync-nopartial (`rsync -a`, which deletes the
// partial file and sends it again from zero) runs on this set only
// (LargeOnly).
//
// # Adding a contender
//
// A contender is anything that implements Contender:
//
//	type Contender interface {
//		Name() string
//		Version(ctx context.Context) string
//		Start(ctx context.Context, env *Env) error
//		Reset(ctx context.Context) error
//		Dest() string
//		Ignore(rel string) bool
//		Sync(ctx context.Context) (SyncInfo, error)
//		Settle(ctx context.Context) error
//		Stop() error
//	}
//
// Start runs once per preset: it starts whatever listens in the destination
// namespace (env.Link.DstNS, address env.Link.DstIP) and prepares keys or
// identities in env.Work. Reset empties the destination and every cache the
// contender keeps, so that the next Sync is a first sync. Sync pushes
// env.Src (read at each call: it changes for the large-file set) to Dest()
// through the link, running the sending side in the
// source namespace (env.Link.SrcCmd), and returns when the sender has
// exited; it must kill the sender's whole process group at once when ctx
// is cancelled (that is how the interruption run kills it). Settle is
// called after such a kill, once the link is back: it waits until the
// receiving side has let go of the killed session. Ignore names the
// contender's own state inside Dest() (ferry's .ferry), which Verify and
// the Poller skip. Stop ends what Start started. Register the new type in
// NewContender; --contenders selects by Name.
//
// # Presets
//
//	edge      2 Mbit/s tbf on both veth ends, no added delay
//	cellular 10 Mbit/s tbf on both veth ends, no added delay
//	lan       no shaping
//	lossy     ferry alone: 2 Mbit/s tbf plus ferry-netsim in the destination
//	          namespace adding 300 ms one-way delay (600 ms RTT) and 1%
//	          random loss each way; reports link utilisation
//
// The large-file set is full size (LargeScale 1) at cellular and lan and a
// fifth at edge, where it runs only with --interrupts.
//
// The kernels this runs on have no netem, so delay and loss exist only for
// UDP, through the project's proxy; rsync (TCP) is therefore compared with
// ferry at rate only, with the sub-millisecond RTT of the veth.
package bench
