//go:build plan9

package session_test

import "os"

// quitSignal ends a hung child (callbacks_test.go): Plan 9 has no
// SIGQUIT to have it print its stacks first.
var quitSignal os.Signal = os.Kill
