package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// The commands on mailboxes: select, examine, lsub, create, delete,
// rename, subscribe, unsubscribe, namespace. Their JSON is in docs/cli.md.

var selectCommand = serverCmd{
	name: "select", args: "MAILBOX", min: 1, max: 1, summary: "open a mailbox read-write and print its state",
	help: "SELECT MAILBOX and print what the server says of it: messages, recent, UIDVALIDITY,\n" +
		"UIDNEXT, the first unseen, the highest mod-sequence, the flags and the permanent flags.",
	flags: selectFlags,
	run: func(ctx context.Context, cn *conn, args []string, own any, o *output) error {
		return runSelect(ctx, cn, args, own, o, false)
	},
}

var examineCommand = serverCmd{
	name: "examine", args: "MAILBOX", min: 1, max: 1, summary: "open a mailbox read-only and print its state",
	help:  "EXAMINE MAILBOX (read-only: nothing changes) and print its state, as select does.",
	flags: selectFlags,
	run: func(ctx context.Context, cn *conn, args []string, own any, o *output) error {
		return runSelect(ctx, cn, args, own, o, true)
	},
}

func selectFlags(fs *flag.FlagSet) any {
	return fs.Bool("condstore", false, "add the CONDSTORE parameter (RFC 7162): the highest mod-sequence is reported")
}

// jsonSelect is select --json and examine --json.
type jsonSelect struct {
	Mailbox        string   `json:"mailbox"`
	ReadOnly       bool     `json:"read_only"`
	Exists         uint32   `json:"exists"`
	Recent         uint32   `json:"recent"`
	UIDValidity    uint32   `json:"uidvalidity"`
	UIDNext        uint32   `json:"uidnext"`
	FirstUnseen    uint32   `json:"first_unseen,omitempty"`
	HighestModSeq  uint64   `json:"highestmodseq,omitempty"`
	Flags          []string `json:"flags"`
	PermanentFlags []string `json:"permanent_flags,omitempty"`
	MailboxID      string   `json:"mailboxid,omitempty"`
}

func runSelect(ctx context.Context, cn *conn, args []string, own any, o *output, readOnly bool) error {
	opts := &commands.SelectOptions{ReadOnly: readOnly, CondStore: *own.(*bool)}
	st, err := cn.c.Select(ctx, args[0], opts)
	var roe *commands.ReadOnlyError
	if errors.As(err, &roe) {
		// Opened read-only although asked read-write: print it as it is.
		st, err = roe.State, nil
	}
	if err != nil {
		return err
	}
	j := jsonSelect{
		Mailbox: args[0], ReadOnly: st.ReadOnly, Exists: st.Exists, Recent: st.Recent,
		UIDValidity: st.UIDValidity, UIDNext: st.UIDNext, FirstUnseen: st.FirstUnseen,
		HighestModSeq: st.HighestModSeq, Flags: nonNil(st.Flags), PermanentFlags: st.PermanentFlags,
		MailboxID: st.MailboxID,
	}
	if st.PermanentFlags != nil && len(st.PermanentFlags) == 0 {
		j.PermanentFlags = nil // "PERMANENTFLAGS ()": shown in the table only
	}
	if o.json {
		return o.emit(j)
	}
	tw := o.table()
	fmt.Fprintf(tw, "mailbox\t%s\n", printable(j.Mailbox))
	fmt.Fprintf(tw, "read-only\t%v\n", j.ReadOnly)
	fmt.Fprintf(tw, "exists\t%d\n", j.Exists)
	fmt.Fprintf(tw, "recent\t%d\n", j.Recent)
	fmt.Fprintf(tw, "uidvalidity\t%d\n", j.UIDValidity)
	fmt.Fprintf(tw, "uidnext\t%d\n", j.UIDNext)
	if j.FirstUnseen != 0 {
		fmt.Fprintf(tw, "first unseen\t%d\n", j.FirstUnseen)
	}
	if j.HighestModSeq != 0 {
		fmt.Fprintf(tw, "highestmodseq\t%d\n", j.HighestModSeq)
	}
	if j.MailboxID != "" {
		fmt.Fprintf(tw, "mailboxid\t%s\n", printable(j.MailboxID))
	}
	fmt.Fprintf(tw, "flags\t%s\n", printable(strings.Join(st.Flags, " ")))
	if st.PermanentFlags != nil {
		fmt.Fprintf(tw, "permanent flags\t%s\n", printable(strings.Join(st.PermanentFlags, " ")))
	}
	return tw.Flush()
}

var lsubCommand = serverCmd{
	name: "lsub", args: "[PATTERN]", max: 1, summary: "list the subscribed mailboxes",
	help: "List the subscribed mailboxes matching PATTERN (default \"*\"). LSUB is IMAP4rev1's;\n" +
		"on a server without it (IMAP4rev2 only), LIST (SUBSCRIBED) is sent instead.",
	run: runLSub,
}

func runLSub(ctx context.Context, cn *conn, args []string, _ any, o *output) error {
	pattern := "*"
	if len(args) > 0 {
		pattern = args[0]
	}
	var boxes []*commands.MailboxInfo
	var err error
	s := cn.c.Session()
	if s.HasCap("IMAP4rev1") || !s.HasCap("IMAP4rev2") {
		boxes, err = cn.c.LSub(ctx, "", pattern)
	} else {
		boxes, err = cn.c.List(ctx, pattern, &commands.ListOptions{Subscribed: true})
	}
	if err != nil {
		return err
	}
	tw := o.table()
	if !o.json {
		fmt.Fprintln(tw, "MAILBOX\tATTRIBUTES")
	}
	for _, b := range boxes {
		if o.json {
			if err := o.emit(listedMailbox(b, s.UTF8Enabled())); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\n", printable(b.Name), printable(strings.Join(b.Attrs, " ")))
	}
	return tw.Flush()
}

// mailboxAction is a command that does one thing to a mailbox and prints
// what it did: create, delete, subscribe, unsubscribe.
func mailboxAction(name, verb, summary, help string, do func(ctx context.Context, c *commands.Client, mailbox string, own any) error, flags func(fs *flag.FlagSet) any) serverCmd {
	return serverCmd{
		name: name, args: "MAILBOX", min: 1, max: 1, summary: summary, help: help, flags: flags,
		run: func(ctx context.Context, cn *conn, args []string, own any, o *output) error {
			if err := do(ctx, cn.c, args[0], own); err != nil {
				return err
			}
			if o.json {
				return o.emit(map[string]string{verb: args[0]})
			}
			_, err := fmt.Fprintf(o.stdout, "%s %s\n", verb, printable(args[0]))
			return err
		},
	}
}

var createCommand = mailboxAction("create", "created", "create a mailbox",
	"Create MAILBOX (and the levels above it the server needs). --special-use asks for a\n"+
		"special use (CREATE-SPECIAL-USE, RFC 6154).",
	func(ctx context.Context, c *commands.Client, mailbox string, own any) error {
		return c.Create(ctx, mailbox, &commands.CreateOptions{SpecialUse: listFlags(*own.(*string))})
	},
	func(fs *flag.FlagSet) any {
		return fs.String("special-use", "", "special uses, e.g. '\\Archive' (needs CREATE-SPECIAL-USE)")
	})

var deleteCommand = mailboxAction("delete", "deleted", "delete a mailbox",
	"Delete MAILBOX, with the messages in it.",
	func(ctx context.Context, c *commands.Client, mailbox string, _ any) error {
		return c.Delete(ctx, mailbox)
	}, nil)

var subscribeCommand = mailboxAction("subscribe", "subscribed", "subscribe to a mailbox",
	"Add MAILBOX to the subscriptions (see lsub).",
	func(ctx context.Context, c *commands.Client, mailbox string, _ any) error {
		return c.Subscribe(ctx, mailbox)
	}, nil)

var unsubscribeCommand = mailboxAction("unsubscribe", "unsubscribed", "unsubscribe from a mailbox",
	"Remove MAILBOX from the subscriptions.",
	func(ctx context.Context, c *commands.Client, mailbox string, _ any) error {
		return c.Unsubscribe(ctx, mailbox)
	}, nil)

var renameCommand = serverCmd{
	name: "rename", args: "MAILBOX NEWNAME", min: 2, max: 2, summary: "rename a mailbox",
	help: "Rename MAILBOX to NEWNAME (renaming INBOX moves its messages to NEWNAME).",
	run: func(ctx context.Context, cn *conn, args []string, _ any, o *output) error {
		if err := cn.c.Rename(ctx, args[0], args[1]); err != nil {
			return err
		}
		if o.json {
			return o.emit(struct {
				Renamed string `json:"renamed"`
				To      string `json:"to"`
			}{args[0], args[1]})
		}
		_, err := fmt.Fprintf(o.stdout, "renamed %s to %s\n", printable(args[0]), printable(args[1]))
		return err
	},
}

var namespaceCommand = serverCmd{
	name: "namespace", summary: "print the personal, other users' and shared namespaces",
	help: "Send NAMESPACE (RFC 2342) and print the namespaces: their prefix and delimiter.",
	run:  runNamespace,
}

func runNamespace(ctx context.Context, cn *conn, _ []string, _ any, o *output) error {
	if !cn.c.Session().HasCap("NAMESPACE") && !cn.c.Session().HasCap("IMAP4rev2") {
		return fmt.Errorf("the server does not offer NAMESPACE: %w", commands.ErrUnsupported)
	}
	ns, err := cn.c.Namespace(ctx)
	if err != nil {
		return err
	}
	j := probeNamespaces{Personal: nonNilNS(ns.Personal), Other: nonNilNS(ns.Other), Shared: nonNilNS(ns.Shared)}
	if o.json {
		return o.emit(j)
	}
	tw := o.table()
	fmt.Fprintln(tw, "NAMESPACE\tPREFIX\tDELIMITER")
	for _, k := range []struct {
		kind string
		l    []probeNS
	}{{"personal", j.Personal}, {"other", j.Other}, {"shared", j.Shared}} {
		for _, n := range k.l {
			fmt.Fprintf(tw, "%s\t%q\t%s\n", k.kind, printable(n.Prefix), printable(n.Delimiter))
		}
	}
	return tw.Flush()
}

// isNo reports whether err is the server's NO or BAD.
func isNo(err error) bool {
	return errors.Is(err, session.ErrNo) || errors.Is(err, session.ErrBad)
}
