package testserver

import (
	"os"
	"syscall"
)

// memoryTempDir is /dev/shm when it is a writable tmpfs with 2 GiB free.
func memoryTempDir() string {
	const dir = "/dev/shm"
	const tmpfsMagic = 0x01021994
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Type != tmpfsMagic {
		return ""
	}
	if free := uint64(st.Bavail) * uint64(st.Bsize); free < 2<<30 {
		return ""
	}
	f, err := os.CreateTemp(dir, "imapkit-probe-")
	if err != nil {
		return ""
	}
	f.Close()
	os.Remove(f.Name())
	return dir
}
