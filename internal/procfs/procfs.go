// Package procfs lists the processes of a Linux /proc, for the test kits
// that look for processes left behind (internal/leakcheck) or started by a
// server (internal/testserver). It reads /proc/PID/stat, whose command
// name may hold spaces and parentheses.
package procfs

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Proc is one process, as /proc/PID/stat gives it.
type Proc struct {
	PID, PPID, PGRP int
	State           string // R, S, Z (zombie), X (dead), ...
}

// List returns every process but the caller, in /proc's order; nil where
// /proc does not exist.
func List() []Proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 {
			continue
		}
		ppid, err1 := strconv.Atoi(f[1])
		pgrp, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, Proc{PID: pid, PPID: ppid, PGRP: pgrp, State: f[0]})
	}
	return out
}

// Cmdline returns the command line of pid with its NUL separators as
// spaces, or nil.
func Cmdline(pid int) []byte {
	cmd, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return bytes.TrimRight(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}), " ")
}
