package transfer

import (
	"fmt"
	"strings"
)

// ValidWindowsPath checks a path that passed ValidPath against the names
// Windows cannot create. ValidPath accepts them: on Linux and macOS they are
// ordinary names (a Linux source tree holds files like aux.c), so only a
// receiver on Windows refuses them, entry by entry. Refused, in any element
// and any case:
//
//   - the device names CON, PRN, AUX, NUL, COM1 to COM9 and LPT1 to LPT9
//     (also with ¹, ² or ³ for the digit), CONIN$ and CONOUT$, alone or
//     followed by spaces or an extension ("nul.txt", "Com1 .log"), which
//     would open the device instead of a file (Windows 11 no longer
//     reserves them with an extension; older versions do);
//   - names ending in a dot or a space, which Windows strips;
//   - the characters < > : " | ? *.
//
// Backslashes and control characters are refused on every system (see
// ValidPath).
func ValidWindowsPath(p string) error {
	for _, elem := range strings.Split(p, "/") {
		if why := windowsName(elem); why != "" {
			return fmt.Errorf("path %q: %s: %w", p, why, ErrRefused)
		}
	}
	return nil
}

// ValidWindowsTarget checks the target of a symlink that passed
// ValidLinkTarget by the rules of ValidWindowsPath: following a link to a
// device name would open the device.
func ValidWindowsTarget(link, target string) error {
	for _, elem := range strings.Split(target, "/") {
		if elem == ".." {
			continue
		}
		if why := windowsName(elem); why != "" {
			return fmt.Errorf("symlink %q -> %q: target %s: %w", link, target, why, ErrRefused)
		}
	}
	return nil
}

// windowsName says why Windows cannot hold the name elem, or returns "".
func windowsName(elem string) string {
	if elem == "" {
		return "" // ValidPath's concern
	}
	if i := strings.IndexAny(elem, `<>:"|?*`); i >= 0 {
		return fmt.Sprintf("%q holds %q, which Windows does not allow in names", elem, elem[i])
	}
	if dev := windowsDevice(elem); dev != "" {
		return fmt.Sprintf("%q names the Windows device %s", elem, dev)
	}
	switch elem[len(elem)-1] {
	case '.':
		return fmt.Sprintf("%q ends in a dot, which Windows strips", elem)
	case ' ':
		return fmt.Sprintf("%q ends in a space, which Windows strips", elem)
	}
	return ""
}

// windowsDevice returns the device that the name elem opens on Windows, in
// upper case, or "". Like Windows, it ignores what follows the first dot
// and the spaces before it.
func windowsDevice(elem string) string {
	base := elem
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	base = asciiUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return base
	}
	if len(base) < 4 || (base[:3] != "COM" && base[:3] != "LPT") {
		return ""
	}
	switch n := base[3:]; n {
	case "1", "2", "3", "4", "5", "6", "7", "8", "9", "\u00b9", "\u00b2", "\u00b3":
		return base
	}
	return ""
}

// asciiUpper upper-cases the ASCII letters of s only, as Windows matches
// device names: "conın$" with a dotless ı is not CONIN$.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
