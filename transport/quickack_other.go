//go:build !linux

package transport

import "net"

// withQuickAck returns conn: TCP_QUICKACK is Linux's (quickack_linux.go).
func withQuickAck(conn net.Conn) net.Conn { return conn }
