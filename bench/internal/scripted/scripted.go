// Package scripted is a scripted IMAP server for the bench module: it
// replays recorded bytes for the in-process benchmarks and holds idle
// sessions for the IDLE measurement.
package scripted

import (
	"bufio"
	"net"
	"strconv"
	"strings"
)

// Greeting is what the scripted server sends first: PREAUTH, so that no
// contender logs in, with the capabilities every contender needs to know
// nothing more.
const Greeting = "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ IDLE] ready\r\n"

// Serve plays a scripted IMAP server on conn until the client closes it:
// it greets with Greeting, answers SELECT and EXAMINE with exists
// messages, IDLE with a continuation request (and its DONE with a tagged
// OK), answers every FETCH, UID FETCH, SEARCH and UID SEARCH (and the
// "X" command of the plain reader) with payload followed by the tagged
// OK, and anything else with a tagged OK. It closes conn when it returns.
func Serve(conn net.Conn, payload []byte, exists int) {
	defer conn.Close()
	if _, err := conn.Write([]byte(Greeting)); err != nil {
		return
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		name, _, _ := strings.Cut(rest, " ")
		name = strings.ToUpper(name)
		if name == "UID" {
			name, _, _ = strings.Cut(strings.TrimPrefix(rest[4:], " "), " ")
			name = strings.ToUpper(name)
		}
		var out []byte
		switch name {
		case "SELECT", "EXAMINE":
			out = []byte("* " + strconv.Itoa(exists) + " EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n" + tag + " OK [READ-WRITE] done\r\n")
		case "FETCH", "SEARCH", "X":
			if _, err := conn.Write(payload); err != nil {
				return
			}
			out = []byte(tag + " OK done\r\n")
		case "IDLE":
			if _, err := conn.Write([]byte("+ idling\r\n")); err != nil {
				return
			}
			done, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if !strings.EqualFold(strings.TrimRight(done, "\r\n"), "DONE") {
				conn.Write([]byte("* BYE expected DONE\r\n"))
				return
			}
			out = []byte(tag + " OK idle done\r\n")
		case "LOGOUT":
			conn.Write([]byte("* BYE bye\r\n" + tag + " OK done\r\n"))
			return
		default:
			out = []byte(tag + " OK done\r\n")
		}
		if _, err := conn.Write(out); err != nil {
			return
		}
	}
}

// ServeListener answers every connection accepted on ln with Serve (no
// payload, no messages), until ln is closed: the loopback server of the
// IDLE and pipelining measurements.
func ServeListener(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go Serve(c, nil, 0)
	}
}
