//go:build linux

package testserver

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tcpListeners returns the inodes of the TCP sockets (IPv4 and IPv6, any
// local address) in state LISTEN on port, from /proc/net/tcp{,6}.
func tcpListeners(port int) ([]string, error) {
	var inodes []string
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(name)
		if err != nil {
			if name == "/proc/net/tcp6" && os.IsNotExist(err) {
				continue // no IPv6 in this kernel
			}
			return nil, err
		}
		inodes = append(inodes, parseTCPListeners(b, port)...)
	}
	return inodes, nil
}

// parseTCPListeners parses a /proc/net/tcp table ("sl local_address
// rem_address st ... inode ...", addresses as HEXADDR:HEXPORT, state 0A
// is LISTEN) and returns the inodes of the sockets listening on port.
func parseTCPListeners(table []byte, port int) []string {
	var inodes []string
	sc := bufio.NewScanner(bytes.NewReader(table))
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" {
			continue
		}
		i := strings.LastIndexByte(f[1], ':')
		if i < 0 {
			continue
		}
		p, err := strconv.ParseUint(f[1][i+1:], 16, 16)
		if err != nil || int(p) != port {
			continue
		}
		inodes = append(inodes, f[9])
	}
	return inodes
}

// holdsSocket reports whether process pid has one of the sockets inodes
// open.
func holdsSocket(pid int, inodes []string) (bool, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		for _, ino := range inodes {
			if link == "socket:["+ino+"]" {
				return true, nil
			}
		}
	}
	return false, nil
}
