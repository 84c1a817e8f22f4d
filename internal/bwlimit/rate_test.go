package bwlimit

import (
	"testing"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    Rate
		wantErr string
	}{
		{in: "off", want: Unlimited},
		{in: "OFF", want: Unlimited},
		{in: " unlimited ", want: Unlimited},
		{in: "0", want: Paused},
		{in: "0k", want: Paused},
		{in: "0.0", want: Paused},
		{in: "65536", want: 65536},
		{in: "1", want: 1},
		{in: "100B", want: 100},
		{in: "256k", want: 256 << 10},
		{in: "256K", want: 256 << 10},
		{in: "256Ki", want: 256 << 10},
		{in: "256KiB", want: 256 << 10},
		{in: "256k/s", want: 256 << 10},
		{in: "1.5M", want: 3 << 19},
		{in: "1.5m", want: 3 << 19},
		{in: "1MiB/s", want: 1 << 20},
		{in: ".5M", want: 1 << 19},
		{in: "2G", want: 2 << 30},
		{in: "2mbit", want: 250000},
		{in: "2Mbit", want: 250000},
		{in: "256kbit", want: 32000},
		{in: "1.6mbit", want: 200000},
		{in: "64kbits", want: 8000},
		{in: "1gbit/s", want: 125e6},
		{in: "8bit", want: 1},
		{in: "1.3k", want: 1331},

		{in: "", wantErr: "bwlimit: empty rate"},
		{in: "  ", wantErr: "bwlimit: empty rate"},
		{in: "-1", wantErr: `bwlimit: rate "-1": negative (use 0 to pause, off for no limit)`},
		{in: "fast", wantErr: `bwlimit: rate "fast": not a number`},
		{in: "k", wantErr: `bwlimit: rate "k": not a number`},
		{in: "1.2.3M", wantErr: `bwlimit: rate "1.2.3M": bad number "1.2.3"`},
		{in: ".", wantErr: `bwlimit: rate ".": bad number "."`},
		{in: "256q", wantErr: `bwlimit: rate "256q": unknown unit "q": use k, M, G for bytes or kbit, mbit, gbit for bits`},
		{in: "1e6", wantErr: `bwlimit: rate "1e6": unknown unit "e6": use k, M, G for bytes or kbit, mbit, gbit for bits`},
		{in: "500KB", wantErr: `bwlimit: rate "500KB": ambiguous unit "KB": use k, M, G (or KiB, MiB, GiB) for bytes, kbit, mbit, gbit for bits`},
		{in: "8Mb", wantErr: `bwlimit: rate "8Mb": ambiguous unit "Mb": use k, M, G (or KiB, MiB, GiB) for bytes, kbit, mbit, gbit for bits`},
		{in: "2mbps", wantErr: `bwlimit: rate "2mbps": ambiguous unit "mbps": use k, M, G (or KiB, MiB, GiB) for bytes, kbit, mbit, gbit for bits`},
		{in: "256 k", wantErr: `bwlimit: rate "256 k": space between number and unit`},
		{in: "0.1", wantErr: `bwlimit: rate "0.1": below 1 byte/s (use 0 to pause)`},
		{in: "1bit", wantErr: `bwlimit: rate "1bit": below 1 byte/s (use 0 to pause)`},
		{in: "2000000G", wantErr: `bwlimit: rate "2000000G": above the maximum of 1 PiB/s`},
		{in: "99999999999999999999999", wantErr: `bwlimit: rate "99999999999999999999999": above the maximum of 1 PiB/s`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseRate(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRate(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRateString(t *testing.T) {
	tests := []struct {
		r    Rate
		want string
	}{
		{Unlimited, "off"},
		{-7, "off"},
		{Paused, "0"},
		{1, "1"},
		{1000, "8kbit"},
		{1024, "1k"},
		{1280, "1.25k"},
		{32000, "256kbit"},
		{8000, "64kbit"},
		{1331, "1331"},
		{65536, "64k"},
		{100000, "800kbit"},
		{200000, "1.6mbit"},
		{250000, "2mbit"},
		{256 << 10, "256k"},
		{3 << 19, "1.5M"},
		{1 << 20, "1M"},
		{125e6, "1gbit"},
		{2 << 30, "2G"},
		{maxRate, "1048576G"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("Rate(%d).String() = %q, want %q", int64(tt.r), got, tt.want)
		}
		if tt.r < Unlimited {
			continue
		}
		if back, err := ParseRate(tt.want); err != nil || back != tt.r {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", tt.want, back, err, tt.r)
		}
	}
}

func TestBurst(t *testing.T) {
	tests := []struct {
		r    Rate
		want int
	}{
		{1, minBurst},
		{20 << 10, 1 << 10},
		{1 << 20, 1 << 20 / 20},
		{maxRate, maxBurst},
	}
	for _, tt := range tests {
		if got := tt.r.burst(); got != tt.want {
			t.Errorf("Rate(%d).burst() = %d, want %d", int64(tt.r), got, tt.want)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"off", "0", "65536", "256k", "1.5M", "2G", "2mbit", "1.3k", "500KB", "-1", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r < Unlimited || r > maxRate {
			t.Fatalf("ParseRate(%q) = %d, out of range", s, r)
		}
		back, err := ParseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRate(%q) = %d; String %q reads back as %d, %v", s, r, r.String(), back, err)
		}
	})
}
