package scan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSum(t *testing.T) {
	var s Sum
	if !s.IsZero() {
		t.Error("zero Sum: IsZero false")
	}
	for i := range s {
		s[i] = byte(i * 7)
	}
	if s.IsZero() {
		t.Error("non-zero Sum: IsZero true")
	}
	text := s.String()
	if text != strings.ToLower(text) || len(text) != 64 {
		t.Errorf("String = %q, want 64 lower-case hex digits", text)
	}
	got, err := ParseSum(text)
	if err != nil || got != s {
		t.Errorf("ParseSum(String()) = %v, %v; want %v", got, err, s)
	}
	b, err := json.Marshal(map[string]Sum{"h": s})
	if err != nil || string(b) != `{"h":"`+text+`"}` {
		t.Errorf("json = %s, %v", b, err)
	}
	var back map[string]Sum
	if err := json.Unmarshal(b, &back); err != nil || back["h"] != s {
		t.Errorf("json round trip = %v, %v", back, err)
	}
}

func TestParseSumErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "0 characters"},
		{"short", "abcd", "4 characters"},
		{"long", strings.Repeat("0", 65), "65 characters"},
		{"not hex", strings.Repeat("g", 64), "invalid byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSum(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseSum(%q) = %v, want %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestKind(t *testing.T) {
	for _, tt := range []struct {
		k    Kind
		want string
	}{{File, "file"}, {Dir, "dir"}, {Symlink, "symlink"}, {0, "kind(0)"}, {9, "kind(9)"}} {
		if got := tt.k.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", tt.k, got, tt.want)
		}
		b, err := tt.k.MarshalText()
		if err != nil || string(b) != tt.want {
			t.Errorf("Kind(%d).MarshalText() = %q, %v", tt.k, b, err)
		}
		var back Kind
		if err := back.UnmarshalText(b); (err == nil) != (tt.k >= File && tt.k <= Symlink) || (err == nil && back != tt.k) {
			t.Errorf("Kind(%d) text round trip: %q, %v, %v", tt.k, b, err, back)
		}
	}
	var k Kind
	if err := k.UnmarshalText([]byte("fifo")); err == nil {
		t.Error(`UnmarshalText("fifo") succeeded`)
	}
}
