package main

import (
	"context"
	"flag"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/width"

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
		"with --seq. --json prints an object per message.",
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
	if len(args) > 1 {
		if set, err = parseSet(args[1], *ho.seq); err != nil {
			return err
		}
	} else {
		if mb.Exists == 0 {
			return nil
		}
		first := uint32(1)
		if mb.Exists > uint32(*ho.last) {
			first = mb.Exists - uint32(*ho.last) + 1
		}
		set = commands.SeqRange(first, mb.Exists)
	}
	tw := &displayTable{w: o.stdout}
	if !o.json {
		tw.row("UID", "DATE", "FROM", "SUBJECT", "SIZE", "FLAGS")
	}
	items := &commands.FetchItems{UID: true, Flags: true, InternalDate: true, Size: true, Envelope: true}
	for m, err := range cn.c.Fetch(ctx, set, items) {
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
		if len(m.Envelope.From) > 0 {
			h.From = printable(m.Envelope.From[0].String())
		}
		s, _ := m.Envelope.DecodedSubject()
		h.Subject = printable(s)
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
		tw.row(strconv.FormatUint(uint64(h.UID), 10), h.Date.Local().Format("2006-01-02 15:04"), dashIfEmpty(h.From),
			dashIfEmpty(h.Subject), strconv.FormatInt(h.Size, 10), strings.Join(flags, " "))
	}
	return tw.flush()
}

// displayTable lays out rows of cells in columns, as text/tabwriter does
// with two spaces of padding, but by display width: East Asian wide and
// fullwidth characters (and most emoji) take two columns of a terminal,
// combining marks none, so that the columns after a Japanese subject stay
// in line. The last cell of a row is not padded.
type displayTable struct {
	w    io.Writer
	rows [][]string
}

func (t *displayTable) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *displayTable) flush() error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r[:len(r)-1] {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	t.rows = nil
	_, err := io.WriteString(t.w, b.String())
	return err
}

// displayWidth is how many terminal columns s takes.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch k := width.LookupRune(r).Kind(); {
		case k == width.EastAsianWide || k == width.EastAsianFullwidth:
			n += 2
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r):
		default:
			n++
		}
	}
	return n
}

// dashIfEmpty shows an empty table cell as "-".
func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
