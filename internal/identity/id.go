package identity

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
)

// An ID names a peer: a digest of its certificate, in canonical printable form
// (see the package documentation). The zero ID matches no certificate.
type ID string

const (
	alphabet   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // RFC 4648 base32
	dataChars  = 31                                 // 155 bits of the certificate digest
	idChars    = dataChars + 1                      // plus one check character
	groupChars = 4
)

// IDOf returns the ID of the certificate whose DER encoding is certDER.
func IDOf(certDER []byte) ID {
	sum := sha256.Sum256(certDER)
	// 20 bytes encode to exactly 32 characters; the first 31 carry the
	// first 155 bits of the digest, the last is replaced by the check.
	enc := base32.StdEncoding.EncodeToString(sum[:20])
	data := enc[:dataChars]
	return format(data + string(checkChar(data)))
}

// ParseID parses s as an ID. It ignores case, dashes and white space, so
// "abcd efgh ..." and "ABCDEFGH..." both parse; the result is canonical.
// The error says what is wrong: the length, a character outside the
// alphabet, or a check character that does not match (a typo).
func ParseID(s string) (ID, error) {
	var b strings.Builder
	b.Grow(idChars)
	n, pos := 0, 0
	for _, r := range s {
		pos++
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\n' || r == '\r':
			continue
		case 'a' <= r && r <= 'z':
			r -= 'a' - 'A'
		}
		if strings.IndexRune(alphabet, r) < 0 {
			return "", fmt.Errorf("identity: bad ID %s: character %d is %q%s, want A-Z or 2-7", quote(s), pos, r, lookalike(r))
		}
		n++
		if n <= idChars {
			b.WriteRune(r)
		}
	}
	if n != idChars {
		return "", fmt.Errorf("identity: bad ID %s: %d characters, want %d (dashes and spaces do not count)", quote(s), n, idChars)
	}
	raw := b.String()
	if checkChar(raw[:dataChars]) != raw[dataChars] {
		return "", fmt.Errorf("identity: bad ID %s: check character does not match, the ID is mistyped", quote(s))
	}
	return format(raw), nil
}

// String returns the canonical form, e.g. "XJ4B-NP4P-AHH6-UQKB-IDPF-3LRC-EOYA-GYN2".
func (id ID) String() string { return string(id) }

// MarshalText implements [encoding.TextMarshaler].
func (id ID) MarshalText() ([]byte, error) { return []byte(id), nil }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseID], so an
// allow list in a config file is checked as it is read.
func (id *ID) UnmarshalText(text []byte) error {
	p, err := ParseID(string(text))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// format groups 32 characters as 8 groups of 4 separated by dashes.
func format(raw string) ID {
	var b strings.Builder
	b.Grow(idChars + idChars/groupChars - 1)
	for i := 0; i < len(raw); i += groupChars {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(raw[i : i+groupChars])
	}
	return ID(b.String())
}

// checkChar computes the Luhn mod 32 check character of s, which must be
// in the alphabet. It catches every single mistyped character and every
// swap of two neighbours except "A7" with "7A".
func checkChar(s string) byte {
	const n = len(alphabet)
	factor, sum := 2, 0
	for i := len(s) - 1; i >= 0; i-- {
		addend := factor * strings.IndexByte(alphabet, s[i])
		factor = 3 - factor
		sum += addend/n + addend%n
	}
	return alphabet[(n-sum%n)%n]
}

// quote quotes s for an error message, cut short if it is long.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// lookalike suggests the letter that a digit outside the alphabet is
// usually mistaken for.
func lookalike(r rune) string {
	switch r {
	case '0':
		return " (letter O?)"
	case '1':
		return " (letter I?)"
	case '8':
		return " (letter B?)"
	}
	return ""
}
