package bwlimit_test

import (
	"fmt"
	"time"

	"github.com/ferrysync/ferry/internal/bwlimit"
)

func ExampleParseSchedule() {
	s, err := bwlimit.ParseSchedule("Mon-Fri 08:00-18:00 256k, 18:00-08:00 off, Sat-Sun off")
	if err != nil {
		fmt.Println(err)
		return
	}
	tue := time.Date(2024, 1, 2, 9, 30, 0, 0, time.UTC) // a Tuesday
	fmt.Println(s.At(tue), "until", s.Next(tue).Format("Mon 15:04"))
	fmt.Println(s.At(tue.Add(12*time.Hour)), "until", s.Next(tue.Add(12*time.Hour)).Format("Mon 15:04"))
	// Output:
	// 256k until Tue 18:00
	// off until Wed 08:00
}

func ExampleParseRate() {
	for _, s := range []string{"256k", "1.5M", "2mbit", "65536", "off", "0", "500KB"} {
		r, err := bwlimit.ParseRate(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		switch r {
		case bwlimit.Unlimited, bwlimit.Paused:
			fmt.Printf("%s: %v\n", s, r)
		default:
			fmt.Printf("%s: %d bytes/s, %v\n", s, int64(r), r)
		}
	}
	// Output:
	// 256k: 262144 bytes/s, 256k
	// 1.5M: 1572864 bytes/s, 1.5M
	// 2mbit: 250000 bytes/s, 2mbit
	// 65536: 65536 bytes/s, 64k
	// off: off
	// 0: 0
	// bwlimit: rate "500KB": ambiguous unit "KB": use k, M, G (or KiB, MiB, GiB) for bytes, kbit, mbit, gbit for bits
}
