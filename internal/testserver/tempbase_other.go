//go:build !linux

package testserver

// memoryTempDir is "": only Linux looks for a memory file system.
func memoryTempDir() string { return "" }
