package identity

import (
	"regexp"
	"strings"
	"testing"
)

var canonical = regexp.MustCompile(`^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$`)

func TestIDOf(t *testing.T) {
	for _, der := range [][]byte{nil, []byte("a"), []byte("another certificate")} {
		id := IDOf(der)
		if !canonical.MatchString(id.String()) {
			t.Errorf("IDOf(%q) = %q, not canonical", der, id)
		}
		if again := IDOf(der); again != id {
			t.Errorf("IDOf(%q) = %q then %q", der, id, again)
		}
		got, err := ParseID(id.String())
		if err != nil || got != id {
			t.Errorf("ParseID(%q) = %q, %v; want the same ID", id, got, err)
		}
	}
	if IDOf([]byte("a")) == IDOf([]byte("b")) {
		t.Error("different certificates got the same ID")
	}
}

// TestIDOfKnown pins the encoding: changing it would change every deployed ID.
func TestIDOfKnown(t *testing.T) {
	// SHA-256("abc") starts ba7816bf 8f01cfea 414140de 5dae2223 b00361a3;
	// base32 of those 20 bytes is XJ4BNP4PAHH6UQKBIDPF3LRCEOYAGYND, whose
	// last character gives way to the Luhn mod 32 check "2" (computed
	// separately with Python's base64 module).
	const want = ID("XJ4B-NP4P-AHH6-UQKB-IDPF-3LRC-EOYA-GYN2")
	if got := IDOf([]byte("abc")); got != want {
		t.Errorf("IDOf(abc) = %q, want %q", got, want)
	}
}

func TestParseID(t *testing.T) {
	id := IDOf([]byte("cert"))
	raw := strings.ReplaceAll(id.String(), "-", "")
	tests := []struct {
		name    string
		in      string
		wantErr string // substring; empty means success
	}{
		{name: "canonical", in: id.String()},
		{name: "lower case", in: strings.ToLower(id.String())},
		{name: "no dashes", in: raw},
		{name: "spaces", in: strings.ReplaceAll(id.String(), "-", " ")},
		{name: "mixed case and separators", in: " " + strings.ToLower(raw[:7]) + "- -" + raw[7:] + "\n"},
		{name: "empty", in: "", wantErr: "0 characters, want 32"},
		{name: "one short", in: raw[:31], wantErr: "31 characters, want 32"},
		{name: "one long", in: raw + "A", wantErr: "33 characters, want 32"},
		{name: "digit zero", in: "0" + raw[1:], wantErr: `character 1 is '0' (letter O?), want A-Z or 2-7`},
		{name: "digit one", in: raw[:5] + "1" + raw[6:], wantErr: `character 6 is '1' (letter I?)`},
		{name: "position counts separators", in: id.String()[:5] + "8" + id.String()[6:], wantErr: `character 6 is '8' (letter B?)`},
		{name: "long input cut short", in: strings.Repeat("A", 100), wantErr: `"` + strings.Repeat("A", 64) + `"...: 100 characters`},
		{name: "punctuation", in: raw[:31] + "!", wantErr: `character 32 is '!', want A-Z or 2-7`},
		{name: "non-ASCII", in: "É" + raw[1:], wantErr: `character 1 is 'É'`},
		{name: "bad check", in: raw[:31] + flip(raw[31]), wantErr: "check character does not match"},
		{name: "typo", in: flip(raw[0]) + raw[1:], wantErr: "check character does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseID(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != id {
					t.Fatalf("ParseID(%q) = %q, %v; want %q, nil", tt.in, got, err, id)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseID(%q) = %q, nil; want error containing %q", tt.in, got, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "identity: ") {
				t.Errorf("ParseID(%q) error = %q, want it to contain %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

// flip returns a different character of the alphabet.
func flip(c byte) string {
	i := strings.IndexByte(alphabet, c)
	return string(alphabet[(i+1)%len(alphabet)])
}

// TestCheckCatchesTypos checks the claims in the package documentation:
// every single substitution is caught, and every swap of neighbours
// except A7/7A.
func TestCheckCatchesTypos(t *testing.T) {
	for _, der := range []string{"x", "y", "z"} {
		raw := []byte(strings.ReplaceAll(IDOf([]byte(der)).String(), "-", ""))
		for i := range raw {
			for j := range len(alphabet) {
				if alphabet[j] == raw[i] {
					continue
				}
				typo := append([]byte(nil), raw...)
				typo[i] = alphabet[j]
				if _, err := ParseID(string(typo)); err == nil {
					t.Errorf("substitution accepted: %s for %s", typo, raw)
				}
			}
		}
	}
	// Swaps: check every pair of neighbouring characters at both parities.
	for a := range len(alphabet) {
		for b := range len(alphabet) {
			if a == b {
				continue
			}
			for _, pos := range []int{0, 1} {
				data := []byte(strings.Repeat("B", dataChars))
				data[pos], data[pos+1] = alphabet[a], alphabet[b]
				swapped := append([]byte(nil), data...)
				swapped[pos], swapped[pos+1] = data[pos+1], data[pos]
				caught := checkChar(string(data)) != checkChar(string(swapped))
				pair := string(alphabet[a]) + string(alphabet[b])
				if want := pair != "A7" && pair != "7A"; caught != want {
					t.Errorf("swap of %s at %d: caught = %v, want %v", pair, pos, caught, want)
				}
			}
		}
	}
}

func TestIDText(t *testing.T) {
	id := IDOf([]byte("cert"))
	text, err := id.MarshalText()
	if err != nil || string(text) != id.String() {
		t.Fatalf("MarshalText = %q, %v; want %q", text, err, id)
	}
	var got ID
	if err := got.UnmarshalText([]byte(strings.ToLower(string(text)))); err != nil || got != id {
		t.Fatalf("UnmarshalText = %q, %v; want %q", got, err, id)
	}
	if err := got.UnmarshalText([]byte("nonsense")); err == nil {
		t.Fatal("UnmarshalText(nonsense) succeeded")
	}
}

func FuzzParseID(f *testing.F) {
	f.Add(IDOf([]byte("seed")).String())
	f.Add("xj4b np4p ahh6 uqkb idpf 3lrc eoya gyn2")
	f.Add("")
	f.Add("0000-0000")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			return
		}
		if !canonical.MatchString(id.String()) {
			t.Fatalf("ParseID(%q) = %q, not canonical", s, id)
		}
		again, err := ParseID(id.String())
		if err != nil || again != id {
			t.Fatalf("ParseID(%q) = %q, %v; want %q", id, again, err, id)
		}
	})
}
