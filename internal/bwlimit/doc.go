// Package bwlimit owns ferry's bandwidth cap: rates, the weekly schedules
// that set them (--bwlimit), and the Writer that paces a stream to them.
//
// # Overview
//
// The sender wraps its stream in one [Writer] per direction. The Writer
// reads the cap in force from a [Schedule] before each slice it writes, so
// a cap that changes at 08:00 changes a transfer already running. Pacing is
// smooth rather than bursty: a token bucket (golang.org/x/time/rate) holding
// 50 ms of data at the cap (at least 1 KiB) starts empty, and each write is
// cut into slices no larger than the bucket, so over any second the bytes
// written stay within about 5% of the cap once running. Below 20 KiB/s the
// 1 KiB slice is the unit: a one-second window may see one slice more or
// less than the cap.
//
// A Paused window holds writes until the schedule's next change, found with
// [Schedule.Next] rather than by polling (the wall clock is still re-read
// once a minute, in case it jumps). While the sender marks the bytes
// as critical with [Writer.SetPriority], [Config.Floor] (--critical-rate) is
// the least cap, so alarms still flow when the schedule pauses bulk data.
// Every wait ends when the Writer's context does.
//
// # Rates
//
// [ParseRate] reads a rate in bytes per second with binary suffixes, like
// rclone's --bwlimit, or in bits per second with decimal ones, like a link's
// data sheet:
//
//	off, unlimited    no cap
//	0                 paused
//	65536             65536 bytes/s
//	256k, 256KiB      256 KiB/s (262144 bytes/s)
//	1.5M              1.5 MiB/s
//	2G                2 GiB/s
//	256kbit           256 kbit/s (32000 bytes/s)
//	2mbit             2 Mbit/s (250000 bytes/s)
//
// Unlike rclone, a bare number is bytes, not KiB. "KB", "Mb" and "mbps" are
// refused as ambiguous.
//
// # Schedules
//
// [ParseSchedule] reads this grammar:
//
//	SCHEDULE := RULE ("," RULE)*
//	RULE     := [DAYS] [WINDOW] RATE
//	DAYS     := DAY | DAY-DAY        Mon Tue Wed Thu Fri Sat Sun or full names, any case
//	WINDOW   := HH:MM-HH:MM          from 00:00 to 24:00, start included, end not
//
// where:
//
//   - A rule without DAYS applies every day; a rule without a WINDOW applies
//     all day. A schedule that is just a RATE is a constant cap.
//   - A day range may wrap the week: Fri-Mon is Fri, Sat, Sun, Mon.
//   - A window may wrap midnight: 18:00-08:00. With DAYS, the days are those
//     on which the window starts: "Fri 18:00-08:00 off" runs from Friday
//     18:00 to Saturday 08:00, not Thursday night.
//   - Spaces around a range's dash are allowed: "Mon - Fri 08:00 - 18:00 1M".
//   - 24:00 may end a window; a window may not be empty (08:00-08:00).
//   - The first rule that matches the moment wins. If no rule matches, the
//     rate is unlimited.
//   - Times are the local wall clock; across a daylight-saving change the
//     schedule follows the clock on the wall.
//
// Examples:
//
//	256k                                   always 256 KiB/s
//	Mon-Fri 08:00-18:00 256k               256 KiB/s in office hours, else unlimited
//	Mon-Fri 08:00-18:00 256k, 18:00-08:00 off, Sat-Sun off
//	                                       the same, written out
//	08:00-18:00 0, 1M                      paused by day, 1 MiB/s by night
//	Fri 18:00-24:00 off, Sat-Sun off, 2mbit
//	                                       weekends unlimited, else 2 Mbit/s
//
// # Choosing a cap
//
// The cap counts the bytes written to the stream. QUIC's headers, framing
// and acknowledgements add about 4–5% on the wire, and retransmissions more
// on a lossy link. To leave room for others on the link, cap a little below
// its rate: over a 2 Mbit/s link, uncapped writes built 175 ms of queueing
// delay for everyone sharing it, while a cap of 1.6mbit (80% of the link)
// kept it under 1 ms.
package bwlimit
