package identity_test

import (
	"fmt"

	"github.com/ferrysync/ferry/internal/identity"
)

func ExampleParseID() {
	for _, s := range []string{
		"xj4b np4p ahh6 uqkb idpf 3lrc eoya gyn2",
		"XJ4B-NP4P-AHH6-UQKB-IDPF-3LRC-E0YA-GYN2",
		"XJ4B-NP4P-AHH6-UQKB-IDPF-3LRC-EOYA-GYN3",
	} {
		id, err := identity.ParseID(s)
		fmt.Println(id, err)
	}
	// Output:
	// XJ4B-NP4P-AHH6-UQKB-IDPF-3LRC-EOYA-GYN2 <nil>
	//  identity: bad ID "XJ4B-NP4P-AHH6-UQKB-IDPF-3LRC-E0YA-GYN2": character 32 is '0' (letter O?), want A-Z or 2-7
	//  identity: bad ID "XJ4B-NP4P-AHH6-UQKB-IDPF-3LRC-EOYA-GYN3": check character does not match, the ID is mistyped
}
