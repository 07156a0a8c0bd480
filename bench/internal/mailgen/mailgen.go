// Package mailgen generates the messages the end-to-end comparison seeds
// into Dovecot: plain-text messages of an exact size, with realistic
// headers that differ from message to message. Subjects and names are
// ASCII without quotes, so that every client sees the same ENVELOPE
// strings (quoted, never literals).
package mailgen

import (
	"fmt"
	"time"
)

var (
	names    = []string{"Terry Gray", "Mark Crispin", "Alexey Melnikov", "Barry Leiba", "Chris Newman", "Arnt Gulbrandsen", "Pete Resnick", "Timo Sirainen"}
	users    = []string{"gray", "mrc", "alexey", "barry", "chris", "arnt", "presnick", "tss"}
	hosts    = []string{"example.org", "example.com", "example.net", "mail.example.de", "lists.example.org"}
	subjects = []string{"Quarterly report draft", "Lunch on Friday", "Project status update", "Server maintenance window",
		"Question about the API", "Weekly team sync notes", "Conference travel plans", "Release checklist"}
	words = []string{"the", "report", "meeting", "budget", "team", "schedule", "update", "review", "server", "network",
		"release", "deadline", "customer", "invoice", "payment", "travel", "lunch", "office", "agenda", "draft"}
)

var epoch = time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)

// Message returns message i (0-based) of exactly size bytes (at least
// about 600 bytes: the header), with CRLF line endings.
func Message(i, size int) []byte {
	a, b := i%len(names), (i*5+3)%len(names)
	date := epoch.Add(time.Duration(i) * 7 * time.Minute)
	msg := fmt.Appendf(make([]byte, 0, size),
		"Return-Path: <%s@%s>\r\n"+
			"Date: %s\r\n"+
			"From: %s <%s@%s>\r\n"+
			"To: %s <%s@%s>\r\n"+
			"Cc: team <team@%s>\r\n"+
			"Subject: %s #%d\r\n"+
			"Message-ID: <bench-%07d@%s>\r\n"+
			"MIME-Version: 1.0\r\n"+
			"Content-Type: text/plain; charset=us-ascii; format=flowed\r\n"+
			"Content-Transfer-Encoding: 7bit\r\n"+
			"X-Bench-Index: %d\r\n\r\n",
		users[a], hosts[a%len(hosts)], date.Format(time.RFC1123Z),
		names[a], users[a], hosts[a%len(hosts)], names[b], users[b], hosts[b%len(hosts)], hosts[i%len(hosts)],
		subjects[i%len(subjects)], i, i, hosts[a%len(hosts)], i)
	// Body: lines of words of about 70 characters, cut so that the
	// message has exactly size bytes and ends with CRLF.
	w := i
	for len(msg) < size {
		start := len(msg)
		for len(msg)-start < 70 {
			if len(msg) > start {
				msg = append(msg, ' ')
			}
			msg = append(msg, words[w%len(words)]...)
			w = (w*31 + 7) % 1000003
		}
		msg = append(msg, '\r', '\n')
	}
	msg = msg[:size-2]
	if msg[len(msg)-1] == '\r' { // a CRLF cut in two
		msg[len(msg)-1] = 'x'
	}
	return append(msg, '\r', '\n')
}

// Messages returns messages 0 to n-1 of Message, each of size bytes.
func Messages(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = Message(i, size)
	}
	return out
}
