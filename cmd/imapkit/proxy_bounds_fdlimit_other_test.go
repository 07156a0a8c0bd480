//go:build !linux

package main

// descriptorRoom is not known here (see proxy_bounds_fdlimit_linux_test.go).
func descriptorRoom() (int, bool) { return 0, false }
