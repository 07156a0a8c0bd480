package faultrelay_test

import (
	"os"
	"testing"

	"github.com/imapkit/imapkit/internal/leakcheck"
)

// TestMain fails the run when the tests leave goroutines of the module,
// file descriptors or child processes behind (internal/leakcheck).
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
