package commands

import (
	"compress/flate"
	"context"
	"crypto/tls"
	"errors"
	"slices"
	"strings"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// Login sends LOGIN through package auth, which refuses it before anything
// is sent on an unprotected connection (auth.ErrInsecure) or when the
// server announced LOGINDISABLED. A Client made with New returns ErrNoAuth.
func (c *Client) Login(ctx context.Context, username, password string) error {
	if c.ac == nil {
		return ErrNoAuth
	}
	return c.ac.Login(ctx, username, password)
}

// Authenticate runs AUTHENTICATE with a SASL mechanism: any value with
// go-sasl's method set (auth.NewPlain, auth.NewSCRAMSHA256, a
// sasl.Client). See auth.Client.Authenticate for the policy and errors.
func (c *Client) Authenticate(ctx context.Context, mech auth.Mechanism) error {
	if c.ac == nil {
		return ErrNoAuth
	}
	return c.ac.Authenticate(ctx, mech)
}

// AuthenticateFunc runs AUTHENTICATE with a callback, like imaplib's
// authenticate(mechanism, authobject).
func (c *Client) AuthenticateFunc(ctx context.Context, mechanism string, f func(challenge []byte) ([]byte, error)) error {
	if c.ac == nil {
		return ErrNoAuth
	}
	return c.ac.AuthenticateFunc(ctx, mechanism, f)
}

// LoginCRAMMD5 authenticates with CRAM-MD5 (imaplib's login_cram_md5).
func (c *Client) LoginCRAMMD5(ctx context.Context, username, password string) error {
	return c.Authenticate(ctx, auth.NewCRAMMD5(username, password))
}

// ProxyAuth sends PROXYAUTH (imaplib's proxyauth): an authenticated
// administrator acts as user from now on.
func (c *Client) ProxyAuth(ctx context.Context, user string) error {
	if c.ac == nil {
		return ErrNoAuth
	}
	return c.ac.ProxyAuth(ctx, user)
}

// StartTLS upgrades the connection with STARTTLS. With a nil cfg and a
// Client made by Open or NewAuth it goes through auth, with
// auth.Options.TLSConfig; otherwise it runs Session.StartTLS with cfg.
// Either way auth then counts the connection as protected (Session.TLS)
// and lets a password go over it.
func (c *Client) StartTLS(ctx context.Context, cfg *tls.Config) error {
	if c.ac != nil && cfg == nil {
		return c.ac.StartTLS(ctx)
	}
	return c.s.StartTLS(ctx, cfg)
}

// CompressOptions are the options of Compress.
type CompressOptions struct {
	// Level is the compress/flate level of what the client sends, from
	// flate.BestSpeed (1) to flate.BestCompression (9), or
	// flate.HuffmanOnly (-2); 0 means flate.DefaultCompression. (Level 0 of
	// compress/flate, no compression, is not offered: it only adds
	// framing.) The server compresses what it sends as it chooses.
	Level int
}

// Compress turns on COMPRESS=DEFLATE (RFC 4978) with the options' level
// (session.Session.CompressLevel). An invalid level is an error matching
// session.ErrCompressLevel, and nothing is sent.
func (c *Client) Compress(ctx context.Context, opts *CompressOptions) error {
	level := flate.DefaultCompression
	if opts != nil && opts.Level != 0 {
		level = opts.Level
	}
	return c.s.CompressLevel(ctx, level)
}

// Noop sends NOOP; the untagged data it brings goes to the session's
// unsolicited stream (session.Options.OnUnsolicited, Responses).
func (c *Client) Noop(ctx context.Context) error { return c.simple(ctx, "NOOP", nil) }

// Capability returns the server's capabilities: those it announced last
// (in its greeting or a CAPABILITY response code), or its answer to
// CAPABILITY when they are unknown or stale (after STARTTLS or
// authentication). Session().Run with a CAPABILITY command asks anyway.
func (c *Client) Capability(ctx context.Context) ([]string, error) {
	return c.s.Capabilities(ctx)
}

// Logout sends LOGOUT and closes the connection.
func (c *Client) Logout(ctx context.Context) error { return c.s.Logout(ctx) }

// Unauthenticate sends UNAUTHENTICATE (RFC 8437) when the server offers
// it; the session is then in state NONAUTH, with nothing kept of the
// previous user: no mailbox selected, nothing ENABLE turned on, no
// response kept for Responses, no listed name remembered for sending
// back as listed.
func (c *Client) Unauthenticate(ctx context.Context) error {
	if !c.hasCap("UNAUTHENTICATE") {
		return ErrUnsupported
	}
	// The names the previous user's LIST recorded (rawNames) are not
	// the next user's to send: the session's NONAUTH transition forgets
	// them (Session.Unauthentications), also when ctx ends after the
	// command went and the server runs it.
	return c.simple(ctx, "UNAUTHENTICATE", nil)
}

// Namespace is the answer to NAMESPACE (RFC 2342): the personal, other
// users' and shared namespaces.
type Namespace struct {
	Personal, Other, Shared []NamespaceDesc
}

// NamespaceDesc is one namespace: its prefix (decoded) and delimiter
// ("" for none).
type NamespaceDesc struct {
	Prefix string
	// Delim is the delimiter as sent: a byte past ASCII is kept as that
	// byte, as in MailboxInfo.Delim.
	Delim string
	// Extensions are the namespace's response extensions (RFC 2342
	// section 5, RFC 9051 section 7.3.5; TRANSLATION of RFC 5255), by
	// name, each value as sent (a parenthesized list of strings); nil
	// when there are none. A name sent twice keeps its last value.
	Extensions map[string]string
}

// Namespace sends NAMESPACE. A server sends one NAMESPACE response; if it
// sends more, the last is the answer (as for ID). Without one (RFC 2342
// section 5, RFC 9051 section 6.3.10: "* NAMESPACE NIL NIL NIL" when
// there are none), a *MissingError: no empty namespaces are made up.
func (c *Client) Namespace(ctx context.Context) (*Namespace, error) {
	r, err := c.run(ctx, &session.Command{Name: "NAMESPACE"})
	if err != nil {
		return nil, err
	}
	ns := &Namespace{}
	conv := func(l []codec.NamespaceDesc) []NamespaceDesc {
		var out []NamespaceDesc
		for _, d := range l {
			nd := NamespaceDesc{Prefix: c.decodeMailbox(d.Prefix)}
			for _, x := range d.Extensions {
				if nd.Extensions == nil {
					nd.Extensions = make(map[string]string, len(d.Extensions))
				}
				nd.Extensions[string(x.Tag)] = string(x.Value)
			}
			switch {
			case d.LongDelim != nil:
				nd.Delim = string(d.LongDelim)
			case d.Delim != 0:
				nd.Delim = string([]byte{d.Delim}) // as sent: see MailboxInfo.Delim
			}
			out = append(out, nd)
		}
		return out
	}
	answered := false
	for _, d := range r.Data {
		if n, ok := d.(*codec.Namespace); ok {
			ns.Personal, ns.Other, ns.Shared = conv(n.Personal), conv(n.Other), conv(n.Shared)
			answered = true
		}
	}
	if !answered {
		return nil, &MissingError{Command: "NAMESPACE", Response: "NAMESPACE"}
	}
	return ns, nil
}

// ID sends ID (RFC 2971) with the client's fields (nil sends NIL) and
// returns the server's (nil for NIL) as a map. The map cannot tell a NIL
// value from "" (both are "") and keeps one value of a field the server
// sent twice (the last); IDFields returns the fields as sent. Of two ID
// responses, the last is the answer (IDFields). An answer without an ID
// response is a *MissingError (IDFields).
func (c *Client) ID(ctx context.Context, fields map[string]string) (map[string]string, error) {
	list, err := c.IDFields(ctx, fields)
	if err != nil || list == nil {
		return nil, err
	}
	out := make(map[string]string, len(list))
	for _, f := range list {
		out[f.Name] = f.Value
	}
	return out, nil
}

// IDField is one field of the server's ID answer (RFC 2971).
type IDField struct {
	Name  string
	Value string // "" when Nil
	Nil   bool   // the value was NIL, not a string
}

// IDFields is ID returning the server's fields as a list, in the order
// sent: a NIL value has Nil set (ID's map has "" for it), and a field
// sent twice is there twice (ID's map keeps the last). The answer NIL is
// a nil list; "()" an empty one. Field names are as the server wrote
// them (RFC 2971 makes them case-insensitive). A server sends one ID
// response; if it sends more, the last is the answer, a NIL one too (the
// fields of the earlier are not merged in). A server must send one, "*
// ID NIL" when it has nothing to say (RFC 2971 section 3.2): an OK
// without one is a *MissingError, not the nil list of NIL.
func (c *Client) IDFields(ctx context.Context, fields map[string]string) ([]IDField, error) {
	r, err := c.run(ctx, &session.Command{Name: "ID", Args: func(e *wire.Encoder) {
		e.SP()
		if fields == nil {
			e.Atom("NIL")
			return
		}
		keys := sortedKeys(fields)
		e.List(func(e *wire.Encoder) {
			for i, k := range keys {
				if i > 0 {
					e.SP()
				}
				e.String(k).SP().String(fields[k])
			}
		})
	}})
	if err != nil {
		return nil, err
	}
	var out []IDField
	answered := false
	for _, d := range r.Data {
		if id, ok := d.(*codec.ID); ok {
			answered = true
			if id.Params == nil {
				out = nil // NIL: the last answer
				continue
			}
			out = make([]IDField, 0, len(id.Params))
			for _, p := range id.Params {
				out = append(out, IDField{Name: string(p.Name), Value: string(p.Value), Nil: p.Value.IsNil()})
			}
		}
	}
	if !answered {
		return nil, &MissingError{Command: "ID", Response: "ID"}
	}
	return out, nil
}

// Enable sends ENABLE (RFC 5161) and returns the capabilities the server
// enabled, of those asked for, as its ENABLED named them: an ENABLED
// naming others (RFC 5161 section 3.2 lets a server name only what was
// asked) is left out, and the session does not take it either
// (session.Session.Enabled). Enabling QRESYNC enables CONDSTORE too (RFC
// 7162 section 3.2.3): a CONDSTORE the server names with it is returned,
// and session.Session.Enabled("CONDSTORE") reports true after an ENABLE
// QRESYNC even when the server names QRESYNC alone. Enabling UTF8=ACCEPT
// (or IMAP4rev2) switches mailbox names to UTF-8 and lets Append send the
// UTF8 form.
func (c *Client) Enable(ctx context.Context, caps ...string) ([]string, error) {
	if len(caps) == 0 {
		return nil, errors.New("commands: Enable without capabilities")
	}
	r, err := c.run(ctx, &session.Command{Name: "ENABLE", Args: func(e *wire.Encoder) {
		for _, cp := range caps {
			atom(e.SP(), cp)
		}
	}})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range r.Data {
		if en, ok := d.(*codec.Enabled); ok {
			for _, cp := range en.Caps {
				if u := strings.ToUpper(string(cp)); enableAsked(caps, u) && !slices.Contains(out, u) {
					out = append(out, u)
				}
			}
		}
	}
	return out, nil
}

// enableAsked reports whether Enable was asked for the capability c (upper
// case), or for an extension that implies it, as the session's ENABLE
// takes them (session's enabledBit, which turns on what the server names
// of these): QRESYNC implies CONDSTORE (RFC 7162 section 3.2.3), and
// IMAP4rev2 UTF8=ACCEPT (its mailbox names are UTF-8, RFC 9051). So what
// Enable returns agrees with Session.Enabled.
func enableAsked(caps []string, c string) bool {
	for _, a := range caps {
		if strings.EqualFold(a, c) ||
			c == "CONDSTORE" && strings.EqualFold(a, "QRESYNC") ||
			c == "UTF8=ACCEPT" && strings.EqualFold(a, "IMAP4rev2") {
			return true
		}
	}
	return false
}

// Recent returns the pending RECENT counts, or prods the server with NOOP
// (imaplib's recent()): session.Session.Recent, whose counts are of the
// mailbox selected at its call, and nothing (no NOOP) when none is
// selected. Under a context bound to a selection (MailboxState.Bind) it is
// session.Session.RecentIn with the binding's count: the counts are
// returned only while that selection holds, and a binding that no longer
// holds (another goroutine's SELECT) gives the *session.NotSentError of
// session.ErrReselected, with no NOOP sent. A count above the mailbox's
// (Exists, when known), which a broken or hostile server may send, is cut
// to it by the session, to the count of the same selection (never to that
// of a mailbox another goroutine selected once the data was taken).
func (c *Client) Recent(ctx context.Context) ([]uint32, error) {
	var rs []codec.Response
	var err error
	if sel, ok := c.binding(ctx); ok {
		rs, err = c.s.RecentIn(ctx, sel)
	} else {
		rs, err = c.s.Recent(ctx)
	}
	if err != nil {
		return nil, err
	}
	if h := testHookRecentTaken; h != nil { // read once (revS56)
		h()
	}
	var out []uint32
	for _, r := range rs {
		if rc, ok := r.(*codec.Recent); ok {
			out = append(out, rc.Count) // cut by the session (Session.Recent)
		}
	}
	return out, nil
}

// testHookRecentTaken, when set (tests only), is called by Recent once the
// session returned the data.
var testHookRecentTaken func()

// Response pops the untagged responses and response codes kept under name
// (imaplib's response(code)): "EXISTS", "ALERT", "READ-ONLY", ... As in
// imaplib, the codes of tagged answers are kept too (READ-ONLY after an
// EXAMINE, APPENDUID after an APPEND): see Session.Responses.
func (c *Client) Response(name string) []codec.Response { return c.s.Responses(name) }

// Caps returns the capabilities the session knows, without I/O.
func (c *Client) Caps() []string { return c.s.Caps() }
