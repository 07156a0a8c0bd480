package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/imapkit/imapkit/commands"
)

var probeCommand = serverCmd{
	name: "probe", summary: "describe a server: capabilities before/after TLS and login, namespaces, special-use folders",
	help: "Connect and print the greeting, the capabilities before TLS, after STARTTLS and\n" +
		"after login, the namespaces and the special-use folders. The first thing to run\n" +
		"against a new server.",
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
	r := probeResult{Greeting: printable(string(s.Welcome().Text)), CapsGreeting: nonNil(cn.capsGreeting), CapsTLS: cn.capsTLS}
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
	if s.HasCap("NAMESPACE") || s.HasCap("IMAP4rev2") {
		ns, err := cn.c.Namespace(ctx)
		if err != nil {
			return err
		}
		r.Namespaces = &probeNamespaces{nonNilNS(ns.Personal), nonNilNS(ns.Other), nonNilNS(ns.Shared)}
	}
	opts := &commands.ListOptions{ReturnSpecialUse: s.HasCap("SPECIAL-USE") || s.HasCap("IMAP4rev2")}
	boxes, err := cn.c.List(ctx, "*", opts)
	if err != nil {
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
	fmt.Fprintf(tw, "greeting\t%s\n", r.Greeting)
	fmt.Fprintf(tw, "tls\t%s\n", r.TLS)
	fmt.Fprintf(tw, "capabilities (greeting)\t%s\n", strings.Join(r.CapsGreeting, " "))
	if r.CapsTLS != nil {
		fmt.Fprintf(tw, "capabilities (after STARTTLS)\t%s\n", strings.Join(r.CapsTLS, " "))
	}
	fmt.Fprintf(tw, "capabilities (after login)\t%s\n", strings.Join(r.CapsAuth, " "))
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
	return tw.Flush()
}

func nonNilNS(l []commands.NamespaceDesc) []probeNS {
	out := []probeNS{}
	for _, d := range l {
		out = append(out, probeNS{d.Prefix, d.Delim})
	}
	return out
}
