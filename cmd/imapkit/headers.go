package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/imapkit/imapkit/commands"
)

// headersOpts are headers' own flags.
type headersOpts struct {
	seq  *bool
	last *int
}

var headersCommand = serverCmd{
	name: "headers", args: "MAILBOX [SET]", min: 1, max: 2,
	summary: "list messages: UID, date, sender, subject, size and flags",
	help: "Print a line per message of MAILBOX (opened read-only): UID, date, sender,\n" +
		"subject (decoded), size and flags, the newest last. Without SET, the last\n" +
		"--last messages; SET is UIDs (as search prints them), or sequence numbers\n" +
		"with --seq. --json prints an object per message.\n" + stdinSetHelp,
	flags: func(fs *flag.FlagSet) any {
		return &headersOpts{
			seq:  setFlag(fs),
			last: fs.Int("last", 20, "without SET, how many of the newest messages"),
		}
	},
	check: func(args []string, own any) error {
		ho := own.(*headersOpts)
		if *ho.last < 1 {
			return usagef("--last must be at least 1")
		}
		if len(args) > 1 {
			_, err := parseSet(args[1], *ho.seq)
			return err
		}
		return nil
	},
	run: runHeaders,
}

// jsonHeader is one line of headers --json.
type jsonHeader struct {
	UID     uint32    `json:"uid"`
	Seq     uint32    `json:"seq"`
	Date    time.Time `json:"date"`
	From    string    `json:"from"`
	Subject string    `json:"subject"`
	Size    int64     `json:"size"`
	Flags   []string  `json:"flags"`
}

func runHeaders(ctx context.Context, cn *conn, args []string, own any, o *output) error {
	ho := own.(*headersOpts)
	mb, err := cn.c.Examine(ctx, args[0])
	if err != nil {
		return err
	}
	var set commands.Set
	newest := len(args) <= 1 // the newest messages: numbers of our own
	if len(args) > 1 {
		if set, err = o.readSet(ctx, args[1], *ho.seq); err != nil {
			return err
		}
	} else {
		if mb.Exists == 0 {
			return nil
		}
		first := uint32(1)
		if int64(mb.Exists) > int64(*ho.last) {
			// Compared as int64: uint32(--last) kept its low bits (4294967297
			// asked for the last message only).
			first = mb.Exists - uint32(*ho.last) + 1
		}
		set = commands.SeqRange(first, mb.Exists)
	}
	tw := o.table()
	if !o.json {
		fmt.Fprintln(tw, "UID\tDATE\tFROM\tSUBJECT\tSIZE\tFLAGS")
	}
	items := &commands.FetchItems{UID: true, Flags: true, InternalDate: true, Size: true, Envelope: true}
	for m, err := range cn.c.Fetch(ctx, set, items) {
		if err != nil && newest {
			return ownSeq(err)
		}
		if err != nil {
			return err
		}
		if m.Envelope == nil {
			continue // a flag change another client made meanwhile
		}
		h := jsonHeader{UID: m.UID, Seq: m.SeqNum, Size: m.Size, Flags: nonNil(m.Flags)}
		if d, err := m.Envelope.Time(); err == nil {
			h.Date = d
		} else {
			h.Date = m.InternalDate // no Date header, or one no parser reads
		}
		if _, err := h.Date.MarshalJSON(); err != nil {
			// A date JSON cannot write (a zone of 24 h or more, "Date:
			// ... +9900", which any sender chooses): the same instant in
			// UTC, or, when that is past year 9999 or before year 0, the
			// internal date, or none. It stopped the whole listing at
			// that message (exit 3).
			h.Date = h.Date.UTC()
			if _, err := h.Date.MarshalJSON(); err != nil {
				h.Date = m.InternalDate.UTC()
				if _, err := h.Date.MarshalJSON(); err != nil {
					h.Date = time.Time{}
				}
			}
		}
		// As sent: --json escapes what must be (escapeUnsafe) and keeps
		// the bidirectional marks right-to-left text needs; the table
		// below makes them printable.
		if len(m.Envelope.From) > 0 {
			h.From = m.Envelope.From[0].String()
		}
		h.Subject, _ = m.Envelope.DecodedSubject()
		if o.json {
			if err := o.emit(h); err != nil {
				return err
			}
			continue
		}
		flags := make([]string, len(h.Flags))
		for i, f := range h.Flags {
			flags[i] = printable(f)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", h.UID, h.Date.Local().Format("2006-01-02 15:04"), dashIfEmpty(printable(h.From)),
			dashIfEmpty(printable(h.Subject)), h.Size, strings.Join(flags, " "))
	}
	return tw.Flush()
}

// dashIfEmpty shows an empty table cell as "-".
func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
