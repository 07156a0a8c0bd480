//go:build !linux

package main

// descriptorRoom is not known here (see proxy_fdlimit_linux_test.go).
func descriptorRoom() (int, bool) { return 0, false }
