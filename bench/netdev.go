package bench

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Counters are the byte counters of the source end of the veth: Rx came
// from the destination, Tx went to it. They count whole Ethernet frames.
type Counters struct{ Rx, Tx int64 }

// Total is both directions.
func (c Counters) Total() int64 { return c.Rx + c.Tx }

// Sub returns c - d.
func (c Counters) Sub(d Counters) Counters { return Counters{c.Rx - d.Rx, c.Tx - d.Tx} }

// parseNetDev reads the byte counters of dev from the text of
// /proc/net/dev: received bytes are the first field after the colon,
// transmitted bytes the ninth.
func parseNetDev(s, dev string) (Counters, error) {
	for _, line := range strings.Split(s, "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) != dev {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 9 {
			break
		}
		rx, err1 := strconv.ParseInt(f[0], 10, 64)
		tx, err2 := strconv.ParseInt(f[8], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return Counters{}, err
		}
		return Counters{Rx: rx, Tx: tx}, nil
	}
	return Counters{}, fmt.Errorf("no interface %s in /proc/net/dev", dev)
}
