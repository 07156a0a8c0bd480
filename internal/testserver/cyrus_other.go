//go:build !linux

package testserver

import "errors"

// CyrusBin is the Cyrus master of Debian's packages.
const CyrusBin = "/usr/lib/cyrus/bin/master"

// The accounts of a Cyrus server: alice (Password) and the administrator.
const (
	CyrusAdmin         = "admin"
	CyrusAdminPassword = "adminpass"
)

// Cyrus is a running private Cyrus imapd; only Linux can start one.
type Cyrus struct {
	Addr string
	Dir  string
}

// StartCyrus fails: the launcher needs Linux (process groups, Debian's
// packages).
func StartCyrus(dir string) (*Cyrus, error) {
	return nil, errors.New("testserver: starting Cyrus needs Linux")
}

// StartCyrusT fails the test: the launcher needs Linux.
func StartCyrusT(t TB) *Cyrus {
	t.Helper()
	t.Fatalf("testserver: starting Cyrus needs Linux")
	return nil
}

// Stop does nothing.
func (c *Cyrus) Stop() error { return nil }
