package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

var probeCommand = serverCmd{
	name: "probe", summary: "describe a server: capabilities before/after TLS and login, namespaces, special-use folders",
	help: "Connect and print the greeting, the capabilities before TLS, after STARTTLS and\n" +
		"after login, the server's ID, the namespaces, the special-use folders, and the\n" +
		"quirks of the server that the codec knows and tolerates (recognized by greeting,\n" +
		"ID or capabilities). The first thing to run against a new server.",
	noLogin: true,
	run:     runProbe,
}

// probeResult is probe's output (--json prints it as one object).
type probeResult struct {
	Greeting       string           `json:"greeting"`
	TLS            string           `json:"tls"` // "implicit", "starttls", "none"
	CapsGreeting   []string         `json:"capabilities_greeting"`
	CapsTLS        []string         `json:"capabilities_tls,omitempty"`
	CapsAuth       []string         `json:"capabilities_auth"`
	Namespaces     *probeNamespaces `json:"namespaces,omitempty"`
	SpecialUse     []probeSpecial   `json:"special_use"`
	MailboxesTotal int              `json:"mailboxes"`
	// ID is the server's answer to ID (RFC 2971), when it offers ID.
	ID map[string]string `json:"id,omitempty"`
	// Server names the known server that the greeting, ID or capabilities
	// point to, when the codec knows its quirks; Quirks lists them (empty
	// for any other server).
	Server string   `json:"server,omitempty"`
	Quirks []string `json:"quirks"`
	// Refused holds, per command the server advertised but answered with
	// NO or BAD (NAMESPACE, LIST), its answer: probe describes the rest.
	Refused map[string]string `json:"refused,omitempty"`
}

type probeNamespaces struct {
	Personal []probeNS `json:"personal"`
	Other    []probeNS `json:"other"`
	Shared   []probeNS `json:"shared"`
}

type probeNS struct {
	Prefix    string `json:"prefix"`
	Delimiter string `json:"delimiter"`
}

type probeSpecial struct {
	Use     string `json:"use"`
	Mailbox string `json:"mailbox"`
}

// specialUses are the special-use attributes of RFC 6154 and RFC 8457.
var specialUses = []string{`\All`, `\Archive`, `\Drafts`, `\Flagged`, `\Junk`, `\Sent`, `\Trash`, `\Important`}

func runProbe(ctx context.Context, cn *conn, _ []string, _ any, o *output) error {
	s := cn.c.Session()
	// The greeting and the ID fields as sent, for --json (escaped by the
	// JSON writer); the table below makes them printable.
	r := probeResult{Greeting: string(s.Welcome().Text), CapsGreeting: nonNil(cn.capsGreeting), CapsTLS: cn.capsTLS}
	switch {
	case cn.t != nil && cn.t.tls:
		r.TLS = "implicit"
	case cn.capsTLS != nil:
		r.TLS = "starttls"
	default:
		r.TLS = "none"
	}
	if err := cn.login(ctx); err != nil {
		return err
	}
	caps, err := cn.c.Capability(ctx)
	if err != nil {
		return err
	}
	r.CapsAuth = nonNil(caps)
	if s.HasCap("ID") {
		id, err := cn.c.ID(ctx, nil)
		var missing *commands.MissingError
		// An ID refused, or answered OK without "* ID" (a broken
		// server's), leaves the probe without the server's ID: it
		// describes the rest.
		if err != nil && !refused(err) && !errors.As(err, &missing) {
			return err
		}
		if len(id) > 0 {
			r.ID = id
		}
	}
	r.Quirks = []string{}
	if ks := identifyServer(r.Greeting, r.ID, r.CapsGreeting, r.CapsTLS, r.CapsAuth); ks != nil {
		r.Server = ks.name
		for _, q := range ks.quirks {
			r.Quirks = append(r.Quirks, q.text)
		}
	}
	if s.HasCap("NAMESPACE") || s.HasCap("IMAP4rev2") {
		ns, err := cn.c.Namespace(ctx)
		var missing *commands.MissingError
		switch {
		case refused(err) || errors.As(err, &missing):
			// A server that answers OK without a NAMESPACE response
			// is reported, as one that refuses it, not a failed probe.
			r.refused("NAMESPACE", err)
		case err != nil:
			return err
		default:
			r.Namespaces = &probeNamespaces{nonNilNS(ns.Personal), nonNilNS(ns.Other), nonNilNS(ns.Shared)}
		}
	}
	opts := &commands.ListOptions{ReturnSpecialUse: s.HasCap("SPECIAL-USE") || s.HasCap("IMAP4rev2")}
	boxes, err := cn.c.List(ctx, "*", opts)
	if refused(err) {
		r.refused("LIST", err)
	} else if err != nil {
		return err
	}
	r.MailboxesTotal = len(boxes)
	r.SpecialUse = []probeSpecial{}
	for _, b := range boxes {
		for _, u := range specialUses {
			if b.HasAttr(u) {
				r.SpecialUse = append(r.SpecialUse, probeSpecial{u, b.Name})
			}
		}
	}
	if o.json {
		return o.emit(r)
	}
	tw := o.table()
	fmt.Fprintf(tw, "greeting\t%s\n", printable(r.Greeting))
	fmt.Fprintf(tw, "tls\t%s\n", r.TLS)
	fmt.Fprintf(tw, "capabilities (greeting)\t%s\n", printable(strings.Join(r.CapsGreeting, " ")))
	if r.CapsTLS != nil {
		fmt.Fprintf(tw, "capabilities (after STARTTLS)\t%s\n", printable(strings.Join(r.CapsTLS, " ")))
	}
	fmt.Fprintf(tw, "capabilities (after login)\t%s\n", printable(strings.Join(r.CapsAuth, " ")))
	if ns := r.Namespaces; ns != nil {
		for _, g := range []struct {
			name string
			l    []probeNS
		}{{"personal", ns.Personal}, {"other users", ns.Other}, {"shared", ns.Shared}} {
			for _, d := range g.l {
				fmt.Fprintf(tw, "namespace (%s)\t%q delimiter %q\n", g.name, d.Prefix, d.Delimiter)
			}
		}
	}
	fmt.Fprintf(tw, "mailboxes\t%d\n", r.MailboxesTotal)
	for _, su := range r.SpecialUse {
		fmt.Fprintf(tw, "special-use %s\t%s\n", su.Use, printable(su.Mailbox))
	}
	if r.ID != nil {
		keys := make([]string, 0, len(r.ID))
		for k := range r.ID {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "id %s\t%s\n", printable(k), printable(r.ID[k]))
		}
	}
	for _, cmd := range []string{"NAMESPACE", "LIST"} {
		if text, ok := r.Refused[cmd]; ok {
			fmt.Fprintf(tw, "refused %s\t%s\n", cmd, printable(text))
		}
	}
	if r.Server == "" {
		fmt.Fprintf(tw, "quirks\tnone known (not a server the codec has quirks for)\n")
	} else {
		fmt.Fprintf(tw, "server\t%s (the codec knows its quirks)\n", r.Server)
		for _, q := range r.Quirks {
			fmt.Fprintf(tw, "quirk\t%s\n", q)
		}
	}
	return tw.Flush()
}

// refused reports whether err is the server's NO or BAD.
func refused(err error) bool {
	return errors.Is(err, session.ErrNo) || errors.Is(err, session.ErrBad)
}

// refused records the server's answer refusing cmd.
func (r *probeResult) refused(cmd string, err error) {
	if r.Refused == nil {
		r.Refused = map[string]string{}
	}
	r.Refused[cmd] = err.Error()
}

func nonNilNS(l []commands.NamespaceDesc) []probeNS {
	out := []probeNS{}
	for _, d := range l {
		out = append(out, probeNS{d.Prefix, d.Delim})
	}
	return out
}
