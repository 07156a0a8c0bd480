//go:build !unix

package codec

import "time"

// cpuTime: see cputime_unix_test.go; wall time here.
func cpuTime() time.Duration { return wallTime() }
