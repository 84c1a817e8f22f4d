package scan

import (
	"encoding"
	"encoding/hex"
	"fmt"
)

var (
	_ encoding.TextMarshaler   = Sum{}
	_ encoding.TextUnmarshaler = (*Sum)(nil)
)

// Sum is a BLAKE3-256 digest.
type Sum [32]byte

// ParseSum parses the 64 hex digits that [Sum.String] returns.
func ParseSum(s string) (Sum, error) {
	var sum Sum
	if len(s) != hex.EncodedLen(len(sum)) {
		return Sum{}, fmt.Errorf("parse sum: %d characters, want %d hex digits", len(s), hex.EncodedLen(len(sum)))
	}
	if _, err := hex.Decode(sum[:], []byte(s)); err != nil {
		return Sum{}, fmt.Errorf("parse sum %q: %w", s, err)
	}
	return sum, nil
}

// String returns s as lower-case hex.
func (s Sum) String() string { return hex.EncodeToString(s[:]) }

// IsZero reports whether s is all zero bytes, the value of no sum.
func (s Sum) IsZero() bool { return s == Sum{} }

// MarshalText encodes s as lower-case hex, so JSON shows a string.
func (s Sum) MarshalText() ([]byte, error) {
	b := make([]byte, hex.EncodedLen(len(s)))
	hex.Encode(b, s[:])
	return b, nil
}

// UnmarshalText decodes the form MarshalText writes.
func (s *Sum) UnmarshalText(b []byte) error {
	v, err := ParseSum(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
