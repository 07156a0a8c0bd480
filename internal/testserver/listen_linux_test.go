//go:build linux

package testserver

import "testing"

// TestParseTCPListeners: the /proc/net/tcp parser that tells whose
// listener is on a port picks the LISTEN sockets (state 0A) on that port
// only, IPv4 and IPv6.
func TestParseTCPListeners(t *testing.T) {
	table := []byte("" +
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 0100007F:8C11 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0\n" +
		"   1: 0100007F:8C11 0100007F:9000 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 100 0 0 10 0\n" +
		"   2: 00000000:8C12 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0 100 0 0 10 0\n" +
		"   3: 00000000000000000000000000000000:8C11 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0 100 0 0 10 0\n")
	got := parseTCPListeners(table, 0x8C11)
	if len(got) != 2 || got[0] != "111" || got[1] != "444" {
		t.Errorf("listeners on port 0x8C11: %q, want [111 444]", got)
	}
	if got := parseTCPListeners(table, 0x9000); len(got) != 0 {
		t.Errorf("listeners on port 0x9000 (a connection's remote port): %q, want none", got)
	}
}
