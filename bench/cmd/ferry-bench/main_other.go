//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "ferry-bench: needs Linux (network namespaces, veth, tbf) and root")
	os.Exit(2)
}
