//go:build !unix

package codec

import "time"

// review41CPU: see review41_cpu_unix_test.go; wall time here.
func review41CPU() time.Duration { return review41Wall() }
