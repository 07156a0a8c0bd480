//go:build !plan9

package session_test

import (
	"os"
	"syscall"
)

// quitSignal has a hung child print its goroutines' stacks
// (callbacks_test.go): SIGQUIT, which Plan 9 lacks (quitsignal_plan9_test.go).
var quitSignal os.Signal = syscall.SIGQUIT
