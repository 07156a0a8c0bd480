package testserver

import (
	"os"
	"sync"
)

// TempBaseEnv names the environment variable that sets TempBase.
const TempBaseEnv = "IMAPKIT_TEST_TMPDIR"

var tempBase = sync.OnceValue(func() string {
	if d := os.Getenv(TempBaseEnv); d != "" {
		return d
	}
	return memoryTempDir()
})

// TempBase is the directory the servers that StartCyrusT and Shared start
// keep their mail in: $IMAPKIT_TEST_TMPDIR when set; otherwise, on Linux,
// /dev/shm when it is a writable tmpfs with at least 2 GiB free; otherwise
// "" (os.TempDir). Cyrus syncs every message it writes to disk (it has no
// setting to stop that): on a disk shared with other work a test that
// appends 10,000 messages took 114 to 135 s in /tmp and 17 s in /dev/shm.
// A test binary killed before its cleanup leaves its directory behind, in
// memory until the next reboot for /dev/shm (imapkit-* directories).
func TempBase() string { return tempBase() }
