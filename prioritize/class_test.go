package prioritize

import "testing"

func TestClass(t *testing.T) {
	for _, tt := range []struct {
		c    Class
		want string
	}{{Critical, "critical"}, {Normal, "normal"}, {Bulk, "bulk"}} {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("Class(%d).String() = %q, want %q", tt.c, got, tt.want)
		}
		got, err := ParseClass(tt.want)
		if err != nil || got != tt.c {
			t.Errorf("ParseClass(%q) = %v, %v; want %v", tt.want, got, err, tt.c)
		}
		b, err := tt.c.MarshalText()
		var back Class
		if err != nil || back.UnmarshalText(b) != nil || back != tt.c {
			t.Errorf("Class(%d) text round trip: %q, %v, %v", tt.c, b, err, back)
		}
	}
	if got := Class(7).String(); got != "class(7)" {
		t.Errorf("Class(7).String() = %q", got)
	}
	var back Class
	if err := back.UnmarshalText([]byte("class(7)")); err == nil {
		t.Error(`UnmarshalText("class(7)") succeeded`)
	}
	for _, s := range []string{"", "Critical", "urgent"} {
		if _, err := ParseClass(s); err == nil {
			t.Errorf("ParseClass(%q) succeeded", s)
		}
	}
}
