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

// CyrusOptions changes what StartCyrusWith writes in imapd.conf.
type CyrusOptions struct {
	// NoConversations turns Cyrus's conversations database off.
	NoConversations bool
}

// StartCyrusWith fails: the launcher needs Linux.
func StartCyrusWith(dir string, opts CyrusOptions) (*Cyrus, error) { return StartCyrus(dir) }

// StartCyrusWithT fails the test: the launcher needs Linux.
func StartCyrusWithT(t TB, opts CyrusOptions) *Cyrus { return StartCyrusT(t) }

// StartCyrusT fails the test: the launcher needs Linux.
func StartCyrusT(t TB) *Cyrus {
	t.Helper()
	t.Fatalf("testserver: starting Cyrus needs Linux")
	return nil
}

// Stop does nothing.
func (c *Cyrus) Stop() error { return nil }
