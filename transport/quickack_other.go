//go:build !linux

package transport

import "net"

// withQuickAck is withHost: TCP_QUICKACK is Linux's (quickack_linux.go).
func withQuickAck(conn net.Conn, host string) net.Conn { return withHost(conn, host) }
