package prioritize

import (
	"encoding"
	"fmt"
	"strconv"
)

var (
	_ encoding.TextMarshaler   = Class(0)
	_ encoding.TextUnmarshaler = (*Class)(nil)
)

// Class is a priority class; lower values are sent first.
type Class uint8

// The classes, in send order.
const (
	Critical Class = 0
	Normal   Class = 1
	Bulk     Class = 2
)

// String returns "critical", "normal" or "bulk".
func (c Class) String() string {
	switch c {
	case Critical:
		return "critical"
	case Normal:
		return "normal"
	case Bulk:
		return "bulk"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// ParseClass parses the names String returns.
func ParseClass(s string) (Class, error) {
	for _, c := range []Class{Critical, Normal, Bulk} {
		if s == c.String() {
			return c, nil
		}
	}
	return 0, fmt.Errorf("parse class %q: want critical, normal or bulk", s)
}

// MarshalText encodes c as its String, so JSON shows "critical".
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes what MarshalText writes.
func (c *Class) UnmarshalText(b []byte) error {
	v, err := ParseClass(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
