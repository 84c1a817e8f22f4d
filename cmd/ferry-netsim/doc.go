// Command ferry-netsim is a UDP relay that emulates a thin, flaky link:
// loss, a bandwidth limit with a bounded queue, delay, jitter and
// blackouts. It stands in for netem on kernels that lack it.
//
// It prints the address it listens on to stdout as soon as it is bound,
// relays until SIGINT or SIGTERM, and then writes its counters to stderr.
//
//	ferry-netsim --upstream 127.0.0.1:4433 --rate 2mbit --delay 300ms --loss 0.01
//
// Exit status: 0 after a signal, 2 for bad flags, 1 for other errors.
package main
