package identity

import (
	"testing"

	"go.uber.org/goleak"
)

// Tests run quic-go, which starts goroutines per transport and connection;
// every test must close what it opened.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
