//go:build !linux && !unix

package testserver

import "os"

func interruptSignal() os.Signal { return os.Kill }
