package transfer

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestValidWindowsPath(t *testing.T) {
	tests := []struct {
		name string
		path string
		say  string // in the error; "" for a path Windows holds
	}{
		{"plain", "logs/a.txt", ""},
		{"device in a longer name", "src/auxiliary.c", ""},
		{"device as a suffix", "conaux", ""},
		{"device with a letter after", "nulx.txt", ""},
		{"COM0 is not a device", "COM0", ""},
		{"COM10 is not a device", "COM10", ""},
		{"LPT without a digit", "LPT.txt", ""},
		{"leading dot", ".profile", ""},
		{"leading space", " CON", ""},
		{"dot inside", "a.b.c", ""},
		{"dotless i is not CONIN$", "conın$", ""},
		{"unicode", "café/ünïcode.txt", ""},

		{"CON", "CON", `"CON" names the Windows device CON`},
		{"con lower case", "con", `"con" names the Windows device CON`},
		{"PRN", "a/Prn", `"Prn" names the Windows device PRN`},
		{"AUX with an extension", "src/aux.c", `"aux.c" names the Windows device AUX`},
		{"NUL with two extensions", "nul.tar.gz", `"nul.tar.gz" names the Windows device NUL`},
		{"device directory", "aux/inner.txt", `"aux" names the Windows device AUX`},
		{"device before spaces and an extension", "Com1 .log", `"Com1 .log" names the Windows device COM1`},
		{"COM9", "com9", "device COM9"},
		{"LPT1", "x/LPT1.txt", "device LPT1"},
		{"LPT9", "lpt9", "device LPT9"},
		{"COM superscript one", "COM\u00b9", "device COM\u00b9"},
		{"LPT superscript three", "lpt\u00b3.txt", "device LPT\u00b3"},
		{"CONIN$", "conin$", "device CONIN$"},
		{"CONOUT$", "CONOUT$.x", "device CONOUT$"},
		{"trailing dot", "dir/name.", `"name." ends in a dot, which Windows strips`},
		{"trailing dot on a directory", "dir./x", `"dir." ends in a dot`},
		{"trailing space", "name ", `"name " ends in a space, which Windows strips`},
		{"less than", "a<b", `"a<b" holds '<', which Windows does not allow in names`},
		{"greater than", "a>b", `holds '>'`},
		{"colon", "c:x", `holds ':'`},
		{"alternate data stream", "file.txt:stream", `holds ':'`},
		{"double quote", `say"hi"`, `holds '"'`},
		{"pipe", "a|b", `holds '|'`},
		{"question mark", "what?.txt", `holds '?'`},
		{"star", "dir/*", `holds '*'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidPath(tt.path); err != nil {
				t.Fatalf("ValidPath(%q) = %v; the table holds valid paths only", tt.path, err)
			}
			err := ValidWindowsPath(tt.path)
			if tt.say == "" {
				if err != nil {
					t.Errorf("ValidWindowsPath(%q) = %v, want nil", tt.path, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidWindowsPath(%q) = nil, want an error saying %q", tt.path, tt.say)
			}
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.say) || !strings.Contains(err.Error(), strconv.Quote(tt.path)) {
				t.Errorf("ValidWindowsPath(%q) = %v, want ErrRefused naming the path and saying %q", tt.path, err, tt.say)
			}
		})
	}
}

func TestValidWindowsTarget(t *testing.T) {
	tests := []struct {
		link, target string
		ok           bool
	}{
		{"a/l", "../b/c.txt", true},
		{"l", "logs/aux.c", false},
		{"a/l", "../CON", false},
		{"l", "what?", false},
		{"l", "dir./x", false},
	}
	for _, tt := range tests {
		if err := ValidLinkTarget(tt.link, tt.target); err != nil {
			t.Fatalf("ValidLinkTarget(%q, %q) = %v; the table holds valid targets only", tt.link, tt.target, err)
		}
		err := ValidWindowsTarget(tt.link, tt.target)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrRefused)) {
			t.Errorf("ValidWindowsTarget(%q, %q) = %v, want ok %v", tt.link, tt.target, err, tt.ok)
		}
	}
}
