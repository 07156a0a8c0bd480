package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// The administrative commands: quota, quotaroot, setquota, acl, metadata,
// annotation, id. Their JSON is in docs/cli.md.

// jsonQuota is one quota root of quota, quotaroot and setquota --json.
type jsonQuota struct {
	Root      string          `json:"root"`
	Resources []jsonQuotaRsrc `json:"resources"`
}

type jsonQuotaRsrc struct {
	Name  string `json:"name"`
	Usage uint64 `json:"usage"`
	Limit uint64 `json:"limit"`
}

func quotaJSON(q *commands.Quota) jsonQuota {
	j := jsonQuota{Root: q.Root, Resources: []jsonQuotaRsrc{}}
	for _, r := range q.Resources {
		j.Resources = append(j.Resources, jsonQuotaRsrc{r.Name, r.Usage, r.Limit})
	}
	return j
}

// quotaTable prints quotas as a table: ROOT RESOURCE USAGE LIMIT.
func quotaTable(o *output, qs []*commands.Quota) error {
	tw := o.table()
	fmt.Fprintln(tw, "ROOT\tRESOURCE\tUSAGE\tLIMIT")
	for _, q := range qs {
		for _, r := range q.Resources {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", printable(q.Root), printable(r.Name), r.Usage, r.Limit)
		}
		if len(q.Resources) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\n", printable(q.Root))
		}
	}
	return tw.Flush()
}

var quotaCommand = serverCmd{
	name: "quota", args: "ROOT", min: 1, max: 1, summary: "print the usage and limits of a quota root",
	help: "Send GETQUOTA ROOT (RFC 9208) and print each resource's usage and limit (STORAGE\n" +
		"in KiB, MESSAGE in messages, ...). quotaroot names a mailbox's roots.",
	run: func(ctx context.Context, cn *conn, args []string, _ any, o *output) error {
		q, err := cn.c.GetQuota(ctx, args[0])
		var me *commands.MissingError
		if errors.As(err, &me) {
			// OK without a QUOTA response: Dovecot's answer for a root
			// without limits.
			q, err = &commands.Quota{Root: args[0]}, nil
		}
		if err != nil {
			return err
		}
		if o.json {
			return o.emit(quotaJSON(q))
		}
		return quotaTable(o, []*commands.Quota{q})
	},
}

var quotaRootCommand = serverCmd{
	name: "quotaroot", args: "MAILBOX", min: 1, max: 1, summary: "print a mailbox's quota roots and their quotas",
	help: "Send GETQUOTAROOT MAILBOX and print its quota roots with their usage and limits.",
	run: func(ctx context.Context, cn *conn, args []string, _ any, o *output) error {
		roots, qs, err := cn.c.GetQuotaRoot(ctx, args[0])
		if err != nil {
			return err
		}
		if o.json {
			j := struct {
				Mailbox string      `json:"mailbox"`
				Roots   []string    `json:"roots"`
				Quotas  []jsonQuota `json:"quotas"`
			}{args[0], nonNil(roots), []jsonQuota{}}
			for _, q := range qs {
				j.Quotas = append(j.Quotas, quotaJSON(q))
			}
			return o.emit(j)
		}
		fmt.Fprintf(o.stdout, "quota roots of %s: %s\n", printable(args[0]), printable(strings.Join(roots, " ")))
		if len(qs) == 0 {
			return nil
		}
		return quotaTable(o, qs)
	},
}

// parseLimits parses RESOURCE=LIMIT arguments.
func parseLimits(args []string) (map[string]uint64, error) {
	m := map[string]uint64{}
	for _, a := range args {
		name, val, ok := strings.Cut(a, "=")
		n, err := strconv.ParseUint(val, 10, 63)
		if !ok || name == "" || err != nil {
			return nil, usagef("setquota: bad limit %q: want RESOURCE=NUMBER, e.g. STORAGE=1048576", a)
		}
		m[strings.ToUpper(name)] = n
	}
	return m, nil
}

var setQuotaCommand = serverCmd{
	name: "setquota", args: "ROOT [RESOURCE=LIMIT...]", min: 1, max: -1, summary: "set the limits of a quota root (administrators)",
	help: "Send SETQUOTA ROOT with the limits given, e.g. STORAGE=1048576 (KiB) MESSAGE=50000;\n" +
		"none removes the limits. Usually only an administrator may.",
	check: func(args []string, _ any) error { _, err := parseLimits(args[1:]); return err },
	run: func(ctx context.Context, cn *conn, args []string, _ any, o *output) error {
		limits, _ := parseLimits(args[1:])
		q, err := cn.c.SetQuota(ctx, args[0], limits)
		if err != nil {
			return err
		}
		if q == nil {
			q = &commands.Quota{Root: args[0]}
			for _, name := range slices.Sorted(maps.Keys(limits)) {
				q.Resources = append(q.Resources, commands.QuotaResource{Name: name, Limit: limits[name]})
			}
		}
		if o.json {
			return o.emit(quotaJSON(q))
		}
		return quotaTable(o, []*commands.Quota{q})
	},
}

// aclUsage lists acl's operations and their arguments.
var aclUsage = map[string]int{"get": 1, "set": 3, "delete": 2, "myrights": 1, "listrights": 2}

var aclCommand = serverCmd{
	name: "acl", args: "get MAILBOX | set MAILBOX ID RIGHTS | delete MAILBOX ID | myrights MAILBOX | listrights MAILBOX ID",
	min: 2, max: 4, summary: "read and change access control lists (RFC 4314)",
	help: "get: the ACL of MAILBOX. set: give identifier ID the RIGHTS (\"lrs\"; +lrs adds,\n" +
		"-w removes). delete: remove ID's entry. myrights: your rights on MAILBOX.\n" +
		"listrights: the rights ID always has and those that may be granted.",
	check: func(args []string, _ any) error { return checkOp("acl", aclUsage, args) },
	run:   runACL,
}

// checkOp checks the operation and argument count of acl, metadata and
// annotation; n < 0 means at least -n arguments.
func checkOp(cmd string, ops map[string]int, args []string) error {
	n, ok := ops[args[0]]
	if !ok {
		return usagef("%s: unknown operation %q (one of %s)", cmd, args[0], strings.Join(slices.Sorted(maps.Keys(ops)), ", "))
	}
	if got := len(args) - 1; n >= 0 && got != n || n < 0 && got < -n {
		return usagef("%s %s: wrong number of arguments (see imapkit help %s)", cmd, args[0], cmd)
	}
	return nil
}

func runACL(ctx context.Context, cn *conn, args []string, _ any, o *output) error {
	mbox := args[1]
	c := cn.c
	switch args[0] {
	case "get":
		acl, err := c.GetACL(ctx, mbox)
		if err != nil {
			return err
		}
		type entry struct {
			Identifier string `json:"identifier"`
			Rights     string `json:"rights"`
		}
		if o.json {
			j := struct {
				Mailbox string  `json:"mailbox"`
				ACL     []entry `json:"acl"`
			}{mbox, []entry{}}
			for _, e := range acl {
				j.ACL = append(j.ACL, entry{e.Identifier, e.Rights})
			}
			return o.emit(j)
		}
		tw := o.table()
		fmt.Fprintln(tw, "IDENTIFIER\tRIGHTS")
		for _, e := range acl {
			fmt.Fprintf(tw, "%s\t%s\n", printable(e.Identifier), printable(e.Rights))
		}
		return tw.Flush()
	case "set":
		if err := c.SetACL(ctx, mbox, args[2], args[3]); err != nil {
			return err
		}
		if o.json {
			return o.emit(map[string]string{"mailbox": mbox, "identifier": args[2], "rights": args[3]})
		}
		_, err := fmt.Fprintf(o.stdout, "set %s's rights on %s: %s\n", printable(args[2]), printable(mbox), printable(args[3]))
		return err
	case "delete":
		if err := c.DeleteACL(ctx, mbox, args[2]); err != nil {
			return err
		}
		if o.json {
			return o.emit(map[string]string{"mailbox": mbox, "deleted": args[2]})
		}
		_, err := fmt.Fprintf(o.stdout, "deleted %s's entry on %s\n", printable(args[2]), printable(mbox))
		return err
	case "myrights":
		r, err := c.MyRights(ctx, mbox)
		if err != nil {
			return err
		}
		if o.json {
			return o.emit(map[string]string{"mailbox": mbox, "rights": r})
		}
		_, err = fmt.Fprintln(o.stdout, printable(r))
		return err
	default: // listrights
		lr, err := c.ListRights(ctx, mbox, args[2])
		if err != nil {
			return err
		}
		if o.json {
			return o.emit(struct {
				Mailbox    string   `json:"mailbox"`
				Identifier string   `json:"identifier"`
				Required   string   `json:"required"`
				Optional   []string `json:"optional"`
			}{mbox, args[2], lr.Required, nonNil(lr.Optional)})
		}
		tw := o.table()
		fmt.Fprintf(tw, "required\t%s\n", printable(lr.Required))
		fmt.Fprintf(tw, "optional\t%s\n", printable(strings.Join(lr.Optional, " ")))
		return tw.Flush()
	}
}

// jsonEntry is one entry of metadata and annotation --json; Value is
// null for NIL.
type jsonEntry struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

func entryJSON(e commands.MetadataEntry) jsonEntry {
	j := jsonEntry{Name: e.Name}
	if e.Value != nil {
		v := string(e.Value)
		j.Value = &v
	}
	return j
}

// valueText is a value for the table: NIL, or the value made printable.
func valueText(v []byte) string {
	if v == nil {
		return "NIL"
	}
	return printable(string(v))
}

var metadataUsage = map[string]int{"get": -2, "set": -3, "delete": -2}

// metadataOpts are metadata's own flags.
type metadataOpts struct {
	depth   *string
	maxSize *uint
	// maxValue is get's --max-value: the session's bound on a string
	// (wire.TokenizerOptions.MaxStringLiteral); 0 keeps the default.
	maxValue *uint
}

// maxMetadataValue is the ceiling of metadata get's --max-value, 16 MiB:
// a value is kept twice while the answer is collected (the bytes read and
// their copy), and the answer must stay within the session's bound on a
// command's result (session.DefaultMaxResultBytes, 64 MiB).
const maxMetadataValue = 16 << 20

// metadataSession raises the session's bound on a string to get's
// --max-value, and its bound on a line by as much: a value is kept in
// its line (wire.TokenizerOptions.MaxLineLength counts the literals
// returned as bytes), with the default room for the rest.
func metadataSession(args []string, own any, o *session.Options) {
	n := *own.(*metadataOpts).maxValue
	if args[0] != "get" || n <= wire.DefaultMaxStringLiteral {
		return
	}
	o.Tokenizer = &wire.TokenizerOptions{
		MaxStringLiteral: int(n),
		MaxLineLength:    int(n) + wire.DefaultMaxLineLength,
	}
}

var metadataCommand = serverCmd{
	name: "metadata", args: "get MAILBOX ENTRY... | set MAILBOX ENTRY VALUE [ENTRY VALUE...] | delete MAILBOX ENTRY...",
	min: 3, max: -1, summary: "read and write server and mailbox annotations (METADATA, RFC 5464)",
	help: "get: the values of the ENTRYs (e.g. /private/comment, /shared/vendor/x) of MAILBOX;\n" +
		"MAILBOX \"\" is the server. set: write values. delete: remove entries (set to NIL).",
	flags: func(fs *flag.FlagSet) any {
		return &metadataOpts{
			depth:    fs.String("depth", "0", "get: also entries below: 0, 1 or infinity"),
			maxSize:  fs.Uint("maxsize", 0, "get: leave out values larger than this many bytes (0: no limit)"),
			maxValue: fs.Uint("max-value", 0, "get: read values of up to this many `bytes`, at most 16777216 (default and least: 65536, the session's bound on a string); a larger value is left out and named, exit 3"),
		}
	},
	check: func(args []string, own any) error {
		if err := checkOp("metadata", metadataUsage, args); err != nil {
			return err
		}
		if args[0] == "set" && len(args)%2 != 0 {
			return usagef("metadata set: ENTRY VALUE pairs expected")
		}
		if n := *own.(*metadataOpts).maxValue; n > maxMetadataValue {
			return usagef("--max-value is at most %d", maxMetadataValue)
		}
		return nil
	},
	session: metadataSession,
	run:     runMetadata,
}

func runMetadata(ctx context.Context, cn *conn, args []string, own any, o *output) error {
	mo := own.(*metadataOpts)
	mbox := args[1]
	switch args[0] {
	case "get":
		if *mo.maxSize > math.MaxUint32 {
			// uint32 kept the low bits: 4294967297 went as MAXSIZE 1.
			return usagef("--maxsize is at most 4294967295")
		}
		opts := &commands.MetadataOptions{MaxSize: uint32(*mo.maxSize)}
		switch *mo.depth {
		case "0":
		case "1":
			opts.Depth = 1
		case "infinity":
			opts.Depth = -1
		default:
			return usagef("--depth must be 0, 1 or infinity")
		}
		entries, long, err := cn.c.GetMetadata(ctx, mbox, args[2:], opts)
		var tooLarge *commands.MetadataTooLargeError
		if errors.Is(err, wire.ErrLineTooLong) {
			// The values of one answer together passed the line
			// bound, each within --max-value (--depth, several
			// entries): the whole answer is lost. The bare "line
			// too long" read as --max-value not kept.
			return fmt.Errorf("%w (the server's answer, its values together, passed the session's bound on a line (%d bytes: 1 MiB plus --max-value): ask for fewer entries at once (--depth 0, one ENTRY a run), or raise --max-value)", err, cn.c.Session().MaxLineLength())
		}
		if err != nil && !errors.As(err, &tooLarge) {
			return err
		}
		// Values over the session's string bound were left out: the
		// other entries are printed, then the error names those.
		if o.json {
			j := struct {
				Mailbox     string      `json:"mailbox"`
				Entries     []jsonEntry `json:"entries"`
				LongEntries uint64      `json:"longentries,omitempty"`
			}{mbox, []jsonEntry{}, long}
			for _, e := range entries {
				j.Entries = append(j.Entries, entryJSON(e))
			}
			if eerr := o.emit(j); eerr != nil {
				return eerr
			}
			return err
		}
		tw := o.table()
		fmt.Fprintln(tw, "ENTRY\tVALUE")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\n", printable(e.Name), valueText(e.Value))
		}
		if long > 0 {
			fmt.Fprintf(o.stderr, "imapkit metadata: values left out; the largest has %d bytes\n", long)
		}
		if ferr := tw.Flush(); ferr != nil {
			return ferr
		}
		return err
	default:
		var entries []commands.MetadataEntry
		if args[0] == "set" {
			for i := 2; i+1 < len(args); i += 2 {
				entries = append(entries, commands.MetadataEntry{Name: args[i], Value: []byte(args[i+1])})
			}
		} else {
			for _, e := range args[2:] {
				entries = append(entries, commands.MetadataEntry{Name: e})
			}
		}
		if err := cn.c.SetMetadata(ctx, mbox, entries); err != nil {
			return err
		}
		return printSet(o, "metadata", mbox, "", entries)
	}
}

// printSet prints the entries that metadata set/delete or annotation set
// wrote.
func printSet(o *output, cmd, mbox, entry string, entries []commands.MetadataEntry) error {
	if o.json {
		j := struct {
			Mailbox string      `json:"mailbox"`
			Entry   string      `json:"entry,omitempty"`
			Set     []jsonEntry `json:"set"`
		}{mbox, entry, []jsonEntry{}}
		for _, e := range entries {
			j.Set = append(j.Set, entryJSON(e))
		}
		return o.emit(j)
	}
	for _, e := range entries {
		name := e.Name
		if entry != "" {
			name = entry + " " + name
		}
		fmt.Fprintf(o.stdout, "%s %s: set %s to %s\n", cmd, printable(mbox), printable(name), valueText(e.Value))
	}
	return nil
}

var annotationUsage = map[string]int{"get": -2, "set": -4}

var annotationCommand = serverCmd{
	name: "annotation", args: "get MAILBOX ENTRY [ATTR...] | set MAILBOX ENTRY ATTR VALUE [ATTR VALUE...]",
	min: 3, max: -1, summary: "read and write annotations (ANNOTATEMORE, as imaplib and Cyrus speak it)",
	help: "get: the attributes ATTR (default \"value.*\") of ENTRY (e.g. /comment) of MAILBOX.\n" +
		"set: write attribute values, e.g. set INBOX /comment value.priv 'my inbox'.",
	check: func(args []string, _ any) error {
		if err := checkOp("annotation", annotationUsage, args); err != nil {
			return err
		}
		if args[0] == "set" && len(args)%2 != 1 {
			return usagef("annotation set: ATTR VALUE pairs expected")
		}
		return nil
	},
	run: runAnnotation,
}

func runAnnotation(ctx context.Context, cn *conn, args []string, _ any, o *output) error {
	mbox, entry := args[1], args[2]
	if args[0] == "set" {
		var attrs []commands.MetadataEntry
		for i := 3; i+1 < len(args); i += 2 {
			attrs = append(attrs, commands.MetadataEntry{Name: args[i], Value: []byte(args[i+1])})
		}
		if err := cn.c.SetAnnotation(ctx, mbox, entry, attrs); err != nil {
			return err
		}
		return printSet(o, "annotation", mbox, entry, attrs)
	}
	attrs := args[3:]
	if len(attrs) == 0 {
		attrs = []string{"value.*"}
	}
	ans, err := cn.c.GetAnnotation(ctx, mbox, entry, attrs...)
	if err != nil {
		return err
	}
	tw := o.table()
	if !o.json {
		fmt.Fprintln(tw, "MAILBOX\tENTRY\tATTRIBUTE\tVALUE")
	}
	for _, a := range ans {
		if o.json {
			j := struct {
				Mailbox    string      `json:"mailbox"`
				Entry      string      `json:"entry"`
				Attributes []jsonEntry `json:"attributes"`
			}{a.Mailbox, a.Entry, []jsonEntry{}}
			for _, e := range a.Attrs {
				j.Attributes = append(j.Attributes, entryJSON(e))
			}
			if err := o.emit(j); err != nil {
				return err
			}
			continue
		}
		for _, e := range a.Attrs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", printable(a.Mailbox), printable(a.Entry), printable(e.Name), valueText(e.Value))
		}
	}
	return tw.Flush()
}

var idCommand = serverCmd{
	name: "id", args: "[FIELD=VALUE...]", max: -1, summary: "exchange ID fields with the server (RFC 2971)",
	help: "Send ID with the client's fields (default name=imapkit) and print the server's.",
	check: func(args []string, _ any) error {
		for _, a := range args {
			if k, _, ok := strings.Cut(a, "="); !ok || k == "" {
				return usagef("id: bad field %q: want FIELD=VALUE, e.g. name=myclient", a)
			}
		}
		return nil
	},
	run: runID,
}

func runID(ctx context.Context, cn *conn, args []string, _ any, o *output) error {
	fields := map[string]string{"name": "imapkit"}
	if len(args) > 0 {
		fields = map[string]string{}
		for _, a := range args {
			k, v, _ := strings.Cut(a, "=")
			fields[k] = v
		}
	}
	srv, err := cn.c.ID(ctx, fields)
	if err != nil {
		return err
	}
	if o.json {
		return o.emit(struct {
			Server map[string]string `json:"server"`
		}{srv})
	}
	if srv == nil {
		_, err := fmt.Fprintln(o.stdout, "the server sent no ID (NIL)")
		return err
	}
	tw := o.table()
	for _, k := range slices.Sorted(maps.Keys(srv)) {
		fmt.Fprintf(tw, "%s\t%s\n", printable(k), printable(srv[k]))
	}
	return tw.Flush()
}
