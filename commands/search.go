package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// Criteria are SEARCH criteria (RFC 9051 section 6.4.4, RFC 3501 section
// 6.4.4 and extensions). Every field set must match (AND); the zero value
// matches every message (ALL). Dates compare whole days, in the server's
// time zone; only the date of a time.Time is sent.
type Criteria struct {
	// Set restricts to a set of sequence numbers or UIDs. An empty set
	// matches no message (it is sent as NOT ALL: IMAP has no empty set).
	Set *Set
	// Flags must all be set, NotFlags all unset: system flags (\Seen,
	// \Answered, \Flagged, \Deleted, \Draft, \Recent) or keywords.
	Flags, NotFlags []string
	// Internal date (the date the server received the message).
	Since, Before, On time.Time
	// The Date header.
	SentSince, SentBefore, SentOn time.Time
	// The save date (SAVEDATE, RFC 8514): when the message was saved in
	// the mailbox. SavedateSupported matches every message of a mailbox
	// that has save dates, none of one that has not.
	SavedSince, SavedBefore, SavedOn time.Time
	SavedateSupported                bool
	// Substrings of header fields, the body, or the whole message.
	From, To, Cc, Bcc, Subject, Body, Text []string
	// Header matches header fields by name and substring ("" matches any
	// message that has the field).
	Header []HeaderCriterion
	// Larger and Smaller compare RFC822.SIZE; 0 for no bound.
	Larger, Smaller int64
	// ModSeq matches messages with a higher mod-sequence (CONDSTORE); at
	// most 2^63-1 (past it, an error wrapping ErrModSeq, nothing sent).
	ModSeq uint64
	// Younger and Older (WITHIN, RFC 5032) compare the internal date with
	// now, to the second.
	Younger, Older time.Duration
	// EmailID and ThreadID (OBJECTID, RFC 8474).
	EmailID, ThreadID string
	// New, Old and Recent are the IMAP4rev1 keys NEW, OLD and RECENT.
	New, Old, Recent bool
	// Not holds criteria that must each not match.
	Not []Criteria
	// Or holds pairs of which one side must match.
	Or [][2]Criteria
	// Raw is appended as written, e.g. "X-GM-RAW \"has:attachment\"".
	Raw string
}

// HeaderCriterion is a HEADER search key.
type HeaderCriterion struct {
	Name, Value string
}

var systemFlagKeys = map[string]string{
	`\answered`: "ANSWERED", `\deleted`: "DELETED", `\draft`: "DRAFT",
	`\flagged`: "FLAGGED", `\seen`: "SEEN", `\recent`: "RECENT",
}

const searchDate = "2-Jan-2006"

// check refuses, before anything is sent, a flag of Flags or NotFlags
// (in Not and Or too) that is not a flag atom (checkFlags) or that starts
// with a backslash without being a system flag: it would go as KEYWORD
// \Seeen, which is no keyword (a keyword has no backslash), and Dovecot
// answers such a search OK with no message, so that a typo looked like
// "nothing flagged" (the error wraps wire.ErrInvalidAtom). It refuses as
// well what IMAP cannot write: a date whose year is outside 0-9999, a
// negative Larger or Smaller (taken for no bound, it matched every
// message), a Younger or Older under a second (WITHIN counts whole
// seconds, and 0 is no valid interval), and a ModSeq past 2^63-1
// (ErrModSeq).
func (cr *Criteria) check() error {
	for _, t := range []time.Time{cr.Since, cr.Before, cr.On, cr.SentSince, cr.SentBefore, cr.SentOn, cr.SavedSince, cr.SavedBefore, cr.SavedOn} {
		if err := checkDate(t); err != nil {
			return err
		}
	}
	if err := checkModSeq("Criteria.ModSeq", cr.ModSeq); err != nil {
		return err
	}
	if cr.Larger < 0 || cr.Smaller < 0 {
		return fmt.Errorf("commands: search size bound below 0 (Larger %d, Smaller %d)", cr.Larger, cr.Smaller)
	}
	for _, d := range []time.Duration{cr.Younger, cr.Older} {
		if d != 0 && d < time.Second {
			return fmt.Errorf("commands: search Younger/Older of %v: WITHIN counts whole seconds, from 1", d)
		}
	}
	for _, flags := range [][]string{cr.Flags, cr.NotFlags} {
		if err := checkFlags(flags); err != nil {
			return err
		}
		for _, f := range flags {
			if _, ok := systemFlagKeys[strings.ToLower(f)]; !ok && strings.HasPrefix(f, `\`) {
				return fmt.Errorf("commands: search flag %q is no system flag (\\Seen, \\Answered, \\Flagged, \\Deleted, \\Draft, \\Recent), and a keyword has no backslash: %w", f, wire.ErrInvalidAtom)
			}
		}
	}
	for i := range cr.Not {
		if err := cr.Not[i].check(); err != nil {
			return err
		}
	}
	for i := range cr.Or {
		for j := range cr.Or[i] {
			if err := cr.Or[i][j].check(); err != nil {
				return err
			}
		}
	}
	return nil
}

// encode writes the criteria, each key after a space.
func (cr *Criteria) encode(e *wire.Encoder) { cr.encodeKeys(e, true) }

// encodeGroup writes the criteria as one parenthesized search key.
func (cr *Criteria) encodeGroup(e *wire.Encoder) {
	e.BeginList()
	cr.encodeKeys(e, false)
	e.EndList()
}

// encodeKeys writes the keys separated by spaces, with a space before the
// first when lead is set.
func (cr *Criteria) encodeKeys(e *wire.Encoder, lead bool) {
	first := true
	key := func(k string) *wire.Encoder {
		if !first || lead {
			e.SP()
		}
		first = false
		return e.Atom(k)
	}
	if cr.Set != nil {
		if !first || lead {
			e.SP()
		}
		first = false
		switch {
		case cr.Set.IsEmpty():
			// IMAP has no empty set. NOT ALL matches no message, as the
			// empty set does, inside NOT and OR too, and leaves $ empty
			// under RETURN (SAVE).
			e.Atom("NOT").SP().Atom("ALL")
		case cr.Set.UID && cr.Set.Saved:
			e.Atom("UID").SP().Raw("$")
		case cr.Set.UID:
			e.Atom("UID").SP().SeqSet(cr.Set.Nums.Ranges())
		case cr.Set.Saved:
			e.Raw("$")
		default:
			e.SeqSet(cr.Set.Nums.Ranges())
		}
	}
	for _, f := range cr.Flags {
		if k, ok := systemFlagKeys[strings.ToLower(f)]; ok {
			key(k)
		} else {
			key("KEYWORD").SP().Atom(f)
		}
	}
	for _, f := range cr.NotFlags {
		if k, ok := systemFlagKeys[strings.ToLower(f)]; ok {
			if k == "RECENT" {
				key("NOT").SP().Atom(k)
			} else {
				key("UN" + k)
			}
		} else {
			key("UNKEYWORD").SP().Atom(f)
		}
	}
	dates := []struct {
		k string
		t time.Time
	}{{"SINCE", cr.Since}, {"BEFORE", cr.Before}, {"ON", cr.On},
		{"SENTSINCE", cr.SentSince}, {"SENTBEFORE", cr.SentBefore}, {"SENTON", cr.SentOn},
		{"SAVEDSINCE", cr.SavedSince}, {"SAVEDBEFORE", cr.SavedBefore}, {"SAVEDON", cr.SavedOn}}
	for _, d := range dates {
		if !d.t.IsZero() {
			key(d.k).SP().Atom(d.t.Format(searchDate))
		}
	}
	texts := []struct {
		k string
		l []string
	}{{"FROM", cr.From}, {"TO", cr.To}, {"CC", cr.Cc}, {"BCC", cr.Bcc},
		{"SUBJECT", cr.Subject}, {"BODY", cr.Body}, {"TEXT", cr.Text}}
	for _, t := range texts {
		for _, s := range t.l {
			key(t.k).SP().String(s)
		}
	}
	for _, h := range cr.Header {
		key("HEADER").SP().AString(h.Name).SP().String(h.Value)
	}
	if cr.Larger > 0 {
		key("LARGER").SP().Number(uint64(cr.Larger))
	}
	if cr.Smaller > 0 {
		key("SMALLER").SP().Number(uint64(cr.Smaller))
	}
	if cr.ModSeq > 0 {
		key("MODSEQ").SP().Number(cr.ModSeq)
	}
	if cr.Younger > 0 {
		key("YOUNGER").SP().Number(uint64(cr.Younger / time.Second))
	}
	if cr.Older > 0 {
		key("OLDER").SP().Number(uint64(cr.Older / time.Second))
	}
	if cr.EmailID != "" {
		atom(key("EMAILID").SP(), cr.EmailID)
	}
	if cr.ThreadID != "" {
		atom(key("THREADID").SP(), cr.ThreadID)
	}
	if cr.New {
		key("NEW")
	}
	if cr.Old {
		key("OLD")
	}
	if cr.Recent {
		key("RECENT")
	}
	if cr.SavedateSupported {
		key("SAVEDATESUPPORTED")
	}
	for i := range cr.Not {
		key("NOT").SP()
		cr.Not[i].encodeGroup(e)
	}
	for i := range cr.Or {
		key("OR").SP()
		cr.Or[i][0].encodeGroup(e)
		e.SP()
		cr.Or[i][1].encodeGroup(e)
	}
	if cr.Raw != "" {
		if !first || lead {
			e.SP()
		}
		first = false
		e.Raw(cr.Raw)
	}
	if first {
		key("ALL")
	}
}

// eachString calls f with each string of the criteria that goes as an
// IMAP string (From, To, Cc, Bcc, Subject, Body, Text, Header names and
// values, in Not and Or too) and the key it goes with, until f returns
// false; it reports whether f did. Raw is not among them: it goes as
// written.
func (cr *Criteria) eachString(f func(key, s string) bool) bool {
	texts := []struct {
		k string
		l []string
	}{{"FROM", cr.From}, {"TO", cr.To}, {"CC", cr.Cc}, {"BCC", cr.Bcc},
		{"SUBJECT", cr.Subject}, {"BODY", cr.Body}, {"TEXT", cr.Text}}
	for _, t := range texts {
		for _, s := range t.l {
			if !f(t.k, s) {
				return false
			}
		}
	}
	for _, h := range cr.Header {
		if !f("HEADER name", h.Name) || !f("HEADER "+h.Name, h.Value) {
			return false
		}
	}
	for i := range cr.Not {
		if !cr.Not[i].eachString(f) {
			return false
		}
	}
	for i := range cr.Or {
		if !cr.Or[i][0].eachString(f) || !cr.Or[i][1].eachString(f) {
			return false
		}
	}
	return true
}

// hasNonASCII reports whether any string of the criteria is not 7-bit.
func (cr *Criteria) hasNonASCII() bool {
	return !cr.eachString(func(_, s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return false
			}
		}
		return true
	})
}

// checkUTF8 refuses, with an error wrapping ErrSearchNotUTF8, a string
// of the criteria (eachString) that is not valid UTF-8. It is called when
// the charset sent or implied is UTF-8.
func (cr *Criteria) checkUTF8() error {
	var err error
	cr.eachString(func(key, s string) bool {
		if !utf8.ValidString(s) {
			err = fmt.Errorf("%w: %s %q", ErrSearchNotUTF8, key, s)
		}
		return err == nil
	})
	return err
}

// SearchReturn asks for ESEARCH results (RFC 4731, RFC 9051): the
// fields of SearchResult to fill. Save keeps the result on the server as
// "$" (SEARCHRES, RFC 5182) for SavedSeqNums and SavedUIDs.
type SearchReturn struct {
	Min, Max, All, Count, Save bool
}

// SearchOptions are the options of Search, Sort and Thread.
type SearchOptions struct {
	// UID returns UIDs (UID SEARCH) instead of sequence numbers.
	UID bool
	// Charset names the charset of the criteria's strings. Empty means
	// none, or UTF-8 when a string is not ASCII (SORT and THREAD, which
	// require a charset: UTF-8). Once UTF-8 is enabled (ENABLE
	// UTF8=ACCEPT, or IMAP4rev2) it must be empty or UTF-8: SEARCH is
	// then sent without CHARSET, SORT and THREAD with UTF-8, and another
	// charset is an error wrapping ErrCharsetUTF8, nothing sent. When
	// the charset is UTF-8 (chosen so, given as UTF-8, or implied by
	// UTF-8 mode), a string that is not valid UTF-8 is an error wrapping
	// ErrSearchNotUTF8, nothing sent; under another charset the bytes go
	// as they are.
	Charset string
	// Return chooses the ESEARCH results (RFC 4731) to ask for. Nil
	// means every number: RETURN (ALL) when the server has ESEARCH (an
	// IMAP4rev2 server has), whose answer is a compact set (1:200000 in
	// a few bytes), else a plain SEARCH; either way the result fills All,
	// Count, Min and Max.
	Return *SearchReturn
}

// SearchResult is the answer to Search. The numbers are UIDs when UID is
// set; Set gives them as a Set of that kind, for Fetch, Store and the
// rest.
type SearchResult struct {
	UID bool
	// All holds the matching numbers, compact; empty when Return did not
	// ask for ALL. It never holds "*": an answer with a 0 among SEARCH's
	// numbers or a "*" in ESEARCH's ALL is an error (*codec.DecodeError).
	// Count, Min and Max, when derived from All, are of the numbers in it.
	All         codec.SeqSet
	Min, Max    uint32
	Count       uint32
	ModSeq      uint64 // the highest mod-sequence with MODSEQ criteria
	HasMin      bool
	HasMax      bool
	HasCount    bool
	FromESearch bool // the answer was ESEARCH
}

// Set returns the matching messages (All) as a Set of the kind searched
// for: UIDs when r.UID is set, else sequence numbers. The Set has a copy
// of All. An empty result is an empty Set, for which Fetch, Store and the
// rest send nothing.
func (r *SearchResult) Set() Set { return SetOf(r.UID, r.All) }

// ErrCharsetUTF8 is returned, wrapped with the charset given, by Search,
// Sort and Thread (and their iterators and ESort) given a
// SearchOptions.Charset other than UTF-8 once UTF-8 is enabled (ENABLE
// UTF8=ACCEPT, or IMAP4rev2): RFC 6855 section 3 and its erratum 4029
// allow no other (a server answers BAD, or reads the strings in the wrong
// charset). Nothing is sent.
var ErrCharsetUTF8 = errors.New("commands: no CHARSET but UTF-8 may be given once UTF-8 is enabled")

// ErrSearchNotUTF8 is returned, wrapped with the key and the string, by
// Search, Sort and Thread (and their iterators and ESort) given a string
// criterion that is not valid UTF-8 when the charset is UTF-8: chosen by
// the Client (SEARCH with a non-ASCII string and no
// SearchOptions.Charset; SORT and THREAD with none), given as "UTF-8", or
// implied once UTF-8 is enabled. Such bytes, declared UTF-8, are no
// search key (Dovecot answers BAD "Invalid search key") or match
// something else (Cyrus). Nothing is sent. Bytes in another charset go
// as they are when SearchOptions.Charset names it.
var ErrSearchNotUTF8 = errors.New("commands: search string is not valid UTF-8, and the charset is UTF-8")

// checkCharset is the charset rule that Search, Sort and Thread share.
// Once UTF-8 is enabled, o.Charset must be empty or UTF-8
// (ErrCharsetUTF8). cs is the charset the command is to carry ("" for
// none); when it, or UTF-8 mode, makes the charset UTF-8, every string of
// cr must be valid UTF-8 (ErrSearchNotUTF8). It reports whether UTF-8
// mode is on.
func (c *Client) checkCharset(cr *Criteria, o *SearchOptions, cs string) (bool, error) {
	on := c.utf8()
	if on && o.Charset != "" && !strings.EqualFold(o.Charset, "UTF-8") {
		return true, fmt.Errorf("%w (%q)", ErrCharsetUTF8, o.Charset)
	}
	if on || strings.EqualFold(cs, "UTF-8") {
		if err := cr.checkUTF8(); err != nil {
			return on, err
		}
	}
	return on, nil
}

// charset decides the CHARSET argument of SEARCH, which is optional:
// none once UTF-8 is enabled (RFC 6855 section 3), else o.Charset, or
// UTF-8 when it is empty and a string is not ASCII.
func (c *Client) charset(cr *Criteria, o *SearchOptions) (string, error) {
	cs := o.Charset
	if cs == "" && cr.hasNonASCII() {
		cs = "UTF-8"
	}
	if on, err := c.checkCharset(cr, o, cs); on || err != nil {
		return "", err
	}
	return cs, nil
}

// mandatoryCharset decides the charset argument of SORT and THREAD, which
// is required (RFC 5256): o.Charset, or UTF-8 when it is empty or once
// UTF-8 is enabled (where no other may be given: checkCharset).
func (c *Client) mandatoryCharset(cr *Criteria, o *SearchOptions) (string, error) {
	cs := o.Charset
	if cs == "" || c.utf8() {
		cs = "UTF-8"
	}
	if _, err := c.checkCharset(cr, o, cs); err != nil {
		return "", err
	}
	return cs, nil
}

// searchCommand builds the command of Search and SearchIter.
func (c *Client) searchCommand(criteria *Criteria, opts *SearchOptions) (*session.Command, SearchOptions, error) {
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	var cr Criteria
	if criteria != nil {
		cr = *criteria
	}
	if err := cr.check(); err != nil {
		return nil, o, err
	}
	cs, err := c.charset(&cr, &o)
	if err != nil {
		return nil, o, err
	}
	if o.Return != nil && o.Return.Save && !c.hasCap("SEARCHRES") {
		return nil, o, fmt.Errorf("%w: SEARCHRES", ErrUnsupported)
	}
	esearch := c.hasCap("ESEARCH")
	name := "SEARCH"
	if o.UID {
		name = "UID SEARCH"
	}
	ret := o.Return
	if ret == nil {
		// Every number, as a compact set (1:200000 in a few bytes, where
		// a plain SEARCH answer is a line of 1.3 MB).
		ret = &SearchReturn{All: true}
	}
	var rules *session.Rules
	if o.UID && cr.seqNums() {
		// UID SEARCH of sequence numbers (Move's and its fallback's
		// UIDs of a set): the session's rules for UID SEARCH let it run
		// beside a command during which the server may expunge, which
		// would renumber the set while it is read; SEARCH's do not.
		r, _ := session.CommandRules(name)
		r.SeqNums, r.NoExpunge = true, true
		rules = &r
	}
	return c.criteriaChecked(&session.Command{Name: name, Pull: true, Rules: rules, Args: func(e *wire.Encoder) {
		if esearch {
			e.SP().Atom("RETURN").SP().List(func(e *wire.Encoder) { atoms(e, ret.names()) })
		}
		if cs != "" {
			e.SP().Atom("CHARSET").SP().AString(cs)
		}
		cr.encode(e)
	}}, &cr), o, nil
}

// seqNums reports whether the criteria hold a set of sequence numbers.
func (cr *Criteria) seqNums() bool {
	return cr.anySet(func(s *Set) bool { return !s.UID })
}

// numbered reports whether the criteria hold a set of sequence numbers
// that names other messages once a message is expunged
// (Set.renumberable: not "$", not "1:*").
func (cr *Criteria) numbered() bool {
	return cr.anySet(func(s *Set) bool { return s.renumberable() })
}

// anySet reports whether f holds for a Set of the criteria, in Not and Or
// too.
func (cr *Criteria) anySet(f func(*Set) bool) bool {
	if cr.Set != nil && f(cr.Set) {
		return true
	}
	for i := range cr.Not {
		if cr.Not[i].anySet(f) {
			return true
		}
	}
	for i := range cr.Or {
		if cr.Or[i][0].anySet(f) || cr.Or[i][1].anySet(f) {
			return true
		}
	}
	return false
}

// searchCommands builds the commands of Search and SearchIter: one, or
// one per part of a criteria's Set too long for the command line
// (Client.SetMaxSetLength), each with the other criteria, whose results
// are joined (the parts are disjoint, and every criterion must match).
// A Set is sent whole under RETURN (SAVE), which keeps one result on the
// server. check(i) tells whether part i may be sent: not when the
// numbers are sequence numbers (of the Set, or of the result) and
// changed since the first part.
func (c *Client) searchCommands(ctx context.Context, criteria *Criteria, opts *SearchOptions) (cmds []*session.Command, o SearchOptions, check func(int) error, err error) {
	cmd, o, err := c.searchCommand(criteria, opts)
	if err != nil {
		return nil, o, nil, err
	}
	check = func(int) error { return nil }
	whole := []*session.Command{cmd}
	if o.Return != nil && o.Return.Save {
		return whole, o, check, nil
	}
	var base Criteria
	if criteria != nil {
		base = *criteria
	}
	// Each part is bound to the mailbox the first is sent to
	// (session.Command.Selection, checked even when 0: a session that
	// never selected a mailbox has count 0). Read before the message
	// count, so that the parts are sized from a mailbox no older than
	// the one they are bound to (a SELECT started in between has them
	// refused, not sized from the mailbox before it).
	sel := c.selection(ctx)
	var parts []Set
	if base.Set == nil {
		// A plain SEARCH answer is one line: its numbers are bounded by
		// the session's decoder (Session.MaxNumbers), its length not
		// (the decoder reads it without keeping its bytes). Without
		// ESEARCH, a mailbox with more messages is searched in parts of
		// that many.
		chunk := uint32(min(uint64(max(c.s.MaxNumbers(), 1)), math.MaxUint32))
		n, known := c.exists(ctx) // not another mailbox's (Bind)
		if c.hasCap("ESEARCH") || !known || n <= chunk {
			return whole, o, check, nil
		}
		// Counted in 64 bits: start+chunk past 2^32-1 wrapped to a small
		// number, and a mailbox of 2^32-1 messages (a hostile EXISTS)
		// added parts for ever.
		for start := uint64(1); start <= uint64(n); start += uint64(chunk) {
			stop := start + uint64(chunk) - 1
			if stop >= uint64(n) {
				stop = 0 // "*": the last part takes what came meanwhile
			}
			parts = append(parts, SeqRange(uint32(start), uint32(stop)))
		}
	} else if parts = c.parts(*base.Set); len(parts) == 1 {
		return whole, o, check, nil
	}
	for i := range parts {
		cr := base
		cr.Set = &parts[i]
		part, _, err := c.searchCommand(&cr, opts)
		if err != nil {
			return nil, o, nil, err
		}
		part.Selection, part.CheckSelection = sel, true
		cmds = append(cmds, part)
	}
	if !parts[0].UID || !o.UID {
		mark := c.s.Renumbered()
		for _, part := range cmds {
			// Checked again by the session when the part's turn comes
			// (another goroutine's command may bring an EXPUNGE while it
			// waits).
			part.CheckRenumbered, part.Renumbered = true, mark
		}
		check = func(i int) error {
			if i > 0 && c.s.Renumbered() != mark {
				return c.renumberedError(sel, i, len(parts), cmd.Name)
			}
			return nil
		}
	}
	return cmds, o, check, nil
}

// pullPending runs cmd, which has Pull set, and hands each of its
// responses to f, with the command's tag, on this goroutine, borrowed:
// valid only during the call (copy what is kept). f returns false to
// stop: the rest of the answer is then read and dropped in the
// background, and pullPending returns stopped. A tagged NO or BAD is a
// *session.StatusError. It returns the command's Pending too (nil when
// it was not started), for a caller that asks what happened while it
// ran (renumberedAfter).
func (c *Client) pullPending(ctx context.Context, cmd *session.Command, f func(tag string, it session.Item) bool) (p *session.Pending, stopped bool, err error) {
	p, err = c.s.Start(ctx, c.bound(ctx, cmd))
	if err != nil {
		return nil, false, err
	}
	for {
		if err := ctx.Err(); err != nil {
			abandon(p) // Next would hand out what is queued first
			return p, false, err
		}
		item, err := p.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			abandon(p)
			return p, false, err
		}
		if !f(p.Tag(), item) {
			abandon(p)
			return p, true, nil
		}
	}
	_, err = p.Wait(ctx)
	return p, false, err
}

// Search sends SEARCH (UID SEARCH with opts.UID), in ESEARCH's form
// (SEARCH RETURN) when the server has ESEARCH: RETURN (ALL) unless
// opts.Return asks for other results. A nil criteria matches every
// message.
//
// The answer is read from the session's pull delivery (see SearchIter)
// straight into the compact set SearchResult.All: the numbers of a plain
// SEARCH are never copied into a list of their own, so a result costs the
// ranges its numbers form, 8 bytes each (one range for 1:1000000, but a
// million for a million numbers none of which follows another), on top of
// the response line the tokenizer holds while it is decoded. SearchIter
// holds nothing. Past the session's MaxResultBytes (session.Options) of
// SEARCH or ESEARCH responses, Search reads on to the end of the answer,
// dropping the rest, and returns what it kept with a
// *session.ResultTooLargeError. A Criteria.Set too long for the command
// line is searched in parts, one SEARCH each, whose results are joined
// (Client.SetMaxSetLength). Without ESEARCH and a Criteria.Set, a mailbox
// of more messages than one answer may number (Session.MaxNumbers:
// 2,097,152 by default) is searched in parts of that many sequence
// numbers. The server must send a SEARCH or ESEARCH even when nothing
// matches ("* SEARCH", RFC 3501 section 7.2.5; with ESEARCH, RFC 4731
// section 3.1), RETURN (SAVE) alone excepted, but iCloud answers a
// search that matches nothing with its tagged OK alone, also when it was
// asked in ESEARCH's form (home-assistant/core#132042): an answer with no
// search response at all is the empty result, as imaplib gives it. An
// answer with an ESEARCH that is not its own (tagged for another
// command, or whose UID indicator says the other kind of numbers) and
// none of its own is a *MissingError: its own may be the one misdirected.
// SearchIter ends with the same error, or yields nothing.
func (c *Client) Search(ctx context.Context, criteria *Criteria, opts *SearchOptions) (*SearchResult, error) {
	cmds, o, check, err := c.searchCommands(ctx, criteria, opts)
	if err != nil {
		return nil, err
	}
	b := c.newBound(cmds[0].Name)
	var res *SearchResult
	for i, cmd := range cmds {
		if err := check(i); err != nil {
			return nil, err
		}
		part, err := c.searchOnce(ctx, cmd, o, b)
		if part == nil {
			return nil, err
		}
		res = res.join(part)
		if err != nil {
			// ErrRenumbered: an EXPUNGE inside the part's answer; the
			// result is kept, the rest not sent.
			return res, joinBound(err, b.err())
		}
	}
	return res, b.err()
}

// joinBound returns err, joined with berr, the error of a result's bound
// (a *session.ResultTooLargeError) when there is one.
func joinBound(err, berr error) error {
	if berr == nil {
		return err
	}
	return fmt.Errorf("%w; %w", err, berr)
}

// searchOnce runs one SEARCH command of Search (the whole criteria, or
// those of one part of a long set) and returns its result, within the
// bound b shared by the parts.
func (c *Client) searchOnce(ctx context.Context, cmd *session.Command, o SearchOptions, b *collectBound) (*SearchResult, error) {
	res := &SearchResult{UID: o.UID}
	// Numbers in ascending order go into the set as they come (a range
	// each run); others are gathered and added in one sort at the end:
	// adding each as it comes would be quadratic (codec.SeqSet.AddNum).
	var nums []uint32
	var all []wire.SeqRange
	answered := false // a SEARCH or ESEARCH of this command came
	var mark numbersMark
	w := watchSearch(cmd, o.UID)
	p, _, err := c.pullPending(ctx, cmd, func(tag string, it session.Item) bool {
		switch d := it.Response.(type) {
		case *codec.Search:
			answered = true
			// A number takes 4 bytes, and 4 more while the slice grows.
			if !b.keep(max(it.Size, 8*int64(len(d.Nums)))) {
				return true
			}
			if len(d.Nums) > 0 {
				mark.note(it)
			}
			if len(nums) == 0 && ascendingAfter(res.All, d.Nums) {
				res.All.AddNum(d.Nums...)
			} else {
				nums = append(nums, d.Nums...)
			}
			if d.ModSeq > res.ModSeq {
				res.ModSeq = d.ModSeq
			}
		case *codec.ESearch:
			if !w.own(d, tag) {
				b.keep(it.Size)
				return true
			}
			answered = true
			if !b.keep(max(it.Size, 16*int64(len(d.All.Ranges())))) {
				return true
			}
			if d.NamesMessages() {
				mark.note(it)
			}
			res.addESearch(d, &all)
		default:
			b.keep(it.Size)
		}
		return true
	})
	if err = b.absorb(err); err != nil {
		return nil, err
	}
	saveOnly := o.Return != nil && *o.Return == SearchReturn{Save: true}
	if !answered && !saveOnly && w.other.Load() {
		return nil, c.searchMissing(cmd)
	}
	res.All.AddNum(nums...)
	res.All.AddRanges(all...)
	res.All.Compact()
	if (o.Return == nil || !res.FromESearch) && !saveOnly {
		// A plain SEARCH (or an IMAP4rev2 server answering one with
		// ESEARCH ALL): the other fields follow from the set. With SAVE
		// alone the server sends no ESEARCH (RFC 5182 section 2.1):
		// nothing is known of the matches but that they are saved.
		n, _ := res.All.Len()
		res.Count, res.HasCount = uint32(n), true
		if rg := res.All.Ranges(); len(rg) > 0 {
			res.Min, res.Max, res.HasMin, res.HasMax = rg[0].Start, rg[len(rg)-1].Stop, true, true
		}
	}
	if !res.holdsNumbers() {
		// RETURN (SAVE) alone, or COUNT alone: no numbers come back
		// to go stale ($ follows expunges, RFC 5182 section 2.1).
		return res, nil
	}
	return res, renumberedAfter(p, o.UID, &mark, cmd.Name)
}

// holdsNumbers reports whether res returns message numbers (ALL, MIN or
// MAX, or a plain SEARCH's), which an EXPUNGE during the answer may have
// made name other messages.
func (res *SearchResult) holdsNumbers() bool {
	return res.HasMin || res.HasMax || !res.All.IsEmpty()
}

// join returns the result of two searches of disjoint messages (the parts
// of a long set) as one: the numbers joined, the counts added, the
// lowest MIN and the highest MAX and MODSEQ. A nil res is none yet.
func (res *SearchResult) join(part *SearchResult) *SearchResult {
	if res == nil {
		return part
	}
	res.All.AddRanges(part.All.Ranges()...)
	res.All.Compact()
	res.Count += part.Count
	res.HasCount = res.HasCount || part.HasCount
	if part.HasMin && (!res.HasMin || part.Min < res.Min) {
		res.Min, res.HasMin = part.Min, true
	}
	if part.HasMax && (!res.HasMax || part.Max > res.Max) {
		res.Max, res.HasMax = part.Max, true
	}
	res.ModSeq = max(res.ModSeq, part.ModSeq)
	res.FromESearch = res.FromESearch || part.FromESearch
	return res
}

// SearchIter is Search as an iterator over the matching numbers (UIDs
// with opts.UID), in the order the server sends them, read on the
// iterating goroutine from the session's pull delivery
// (session.Command.Pull). Nothing is collected: the numbers of a plain
// SEARCH are yielded from the decoder's own response, and those of
// ESEARCH's ALL from its compact set, range by range, without expanding
// it. So memory does not grow with the result, beyond the numbers of one
// response (Session.MaxNumbers bounds them; without ESEARCH a larger
// mailbox is searched in parts, as Search does). An answer line longer
// than the session's MaxLineLength is read without keeping its bytes.
//
// With a server with ESEARCH, it sends SEARCH RETURN (ALL), plus SAVE
// when opts.Return asks (MIN, MAX and COUNT are not asked: see Search):
// the answer is then a sequence set on the wire too, 1:1000000 in ten
// bytes, and the numbers come in ascending order. Breaking out of the loop drops the rest of the answer
// (read in the background). An error ends the iteration, yielded with 0;
// a tagged NO or BAD is a *session.StatusError. A Criteria.Set too long
// for the command line is searched in parts, whose numbers come one part
// after the other (Client.SetMaxSetLength).
func (c *Client) SearchIter(ctx context.Context, criteria *Criteria, opts *SearchOptions) iter.Seq2[uint32, error] {
	return func(yield func(uint32, error) bool) {
		if opts != nil && opts.Return != nil {
			o := *opts
			o.Return = &SearchReturn{All: true, Save: opts.Return.Save}
			opts = &o
		}
		cmds, _, check, err := c.searchCommands(ctx, criteria, opts)
		if err != nil {
			yield(0, err)
			return
		}
		for i, cmd := range cmds {
			if err := check(i); err != nil {
				yield(0, err)
				return
			}
			if !c.searchIterOnce(ctx, cmd, yield) {
				return
			}
		}
	}
}

// searchIterOnce runs one SEARCH command of SearchIter and yields its
// numbers; it returns false when the iteration ended.
func (c *Client) searchIterOnce(ctx context.Context, cmd *session.Command, yield func(uint32, error) bool) bool {
	done, cut := ctx.Done(), false
	answered := false
	var mark numbersMark
	uid := strings.HasPrefix(cmd.Name, "UID ")
	w := watchSearch(cmd, uid)
	p, stopped, err := c.pullPending(ctx, cmd, func(tag string, it session.Item) bool {
		r := it.Response
		switch d := r.(type) {
		case *codec.Search:
			answered = true
			if len(d.Nums) > 0 {
				mark.note(it)
			}
			for _, n := range d.Nums {
				if cut = ended(done); cut || !yield(n, nil) {
					return false
				}
			}
		case *codec.ESearch:
			if !w.own(d, tag) {
				return true // not this command's (Search)
			}
			answered = true
			if d.Has&codec.ESearchAll != 0 {
				mark.note(it)
				for n := range d.All.All {
					if cut = ended(done); cut || !yield(n, nil) {
						return false
					}
				}
			}
		}
		return true
	})
	if cut {
		yield(0, ctx.Err())
		return false
	}
	if err != nil && !stopped {
		if tooLarge(err) {
			// Past the session's bound on the answer's queue (the
			// reader ahead of the loop): the numbers yielded may
			// name other messages now too.
			if rerr := renumberedAfter(p, uid, &mark, cmd.Name); rerr != nil {
				err = joinBound(rerr, err)
			}
		}
		yield(0, err)
		return false
	}
	if !stopped && !answered && w.other.Load() {
		// An ESEARCH of another's and none of its own (see Search).
		yield(0, c.searchMissing(cmd))
		return false
	}
	if !stopped {
		// After the numbers: those yielded may name other messages now.
		if err := renumberedAfter(p, uid, &mark, cmd.Name); err != nil {
			yield(0, err)
			return false
		}
	}
	return !stopped
}

// searchWatch tells a SEARCH command's own ESEARCH responses from the
// others that come while it runs (watchSearch).
type searchWatch struct {
	uid bool
	// other: an ESEARCH not this command's came while it ran (of
	// another tag, or of the other kind of numbers). Set by the
	// command's Want, where the session routes (its reader goroutine, or
	// a caller's), and by own.
	other atomic.Bool
}

// watchSearch gives cmd (a SEARCH or UID SEARCH, uid for the latter) a
// Want that takes what its rules take, SEARCH and ESEARCH, but notes an
// untagged ESEARCH of the other kind of numbers (RFC 4731 section 3.1:
// the UID indicator says which) before leaving it, as the session's rules
// do, to another command or OnUnsolicited; and that takes every tagged
// ESEARCH, whose tag own then checks (SEARCH, SORT and THREAD never run
// together: a tagged ESEARCH of another tag is no other Search's).
func watchSearch(cmd *session.Command, uid bool) *searchWatch {
	w := &searchWatch{uid: uid}
	cmd.Want = func(r codec.Response) bool {
		switch d := r.(type) {
		case *codec.Search:
			return true
		case *codec.ESearch:
			if d.Tag == nil && d.NamesMessages() && d.UID != uid {
				w.other.Store(true)
				return false
			}
			return true
		}
		return false
	}
	return w
}

// own reports whether d, taken by the command tagged tag, is its answer:
// of its tag, or of none, and of its kind of numbers (of UIDs for a UID
// SEARCH, of sequence numbers for a SEARCH; one that names no messages,
// Cyrus 2.4's and Gmail's empty answer to UID SEARCH, which leaves the
// indicator out, is of either). Another is noted in w.other.
func (w *searchWatch) own(d *codec.ESearch, tag string) bool {
	if !d.Answers(tag, w.uid) {
		w.other.Store(true)
		return false
	}
	return true
}

// searchMissing is the error of a SEARCH command answered OK without a
// SEARCH or ESEARCH of its own but with an ESEARCH that is not its own
// (of another tag, or of the other kind of numbers: searchWatch). An
// extended SEARCH (sent so whenever the server has ESEARCH:
// searchCommand) is always answered with an ESEARCH, even when nothing
// matches (RFC 4731 section 3.1; RETURN (SAVE) alone excepted, RFC 5182),
// and a plain one with a SEARCH, "* SEARCH" when nothing matches (RFC
// 3501 section 7.2.5, RFC 9051 section 7.3.4 with ESEARCH). An answer
// with no search response at all is taken as "none" (iCloud's quirk:
// see Search); one where another's came instead may be this command's
// answer misdirected, so nothing is known of the matches, not "none".
func (c *Client) searchMissing(cmd *session.Command) error {
	if c.hasCap("ESEARCH") {
		return &MissingError{Command: cmd.Name, Response: "ESEARCH"}
	}
	return &MissingError{Command: cmd.Name, Response: "SEARCH"}
}

// ended reports, without blocking, whether done (a context's Done channel;
// nil for a context that never ends) is closed. The iterators that yield
// many numbers from one response check it before each, so that a loop
// whose context ends stops at once, as Fetch's does between messages.
func ended(done <-chan struct{}) bool {
	if done == nil {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// names returns the RETURN options.
func (rt *SearchReturn) names() []string {
	var l []string
	for _, x := range []struct {
		ok bool
		n  string
	}{{rt.Min, "MIN"}, {rt.Max, "MAX"}, {rt.All, "ALL"}, {rt.Count, "COUNT"}, {rt.Save, "SAVE"}} {
		if x.ok {
			l = append(l, x.n)
		}
	}
	return l
}

// ascendingAfter reports whether nums are in ascending order from the
// start of the last range of s on, where adding them one by one costs
// O(1) each.
func ascendingAfter(s codec.SeqSet, nums []uint32) bool {
	var prev uint32
	if r := s.Ranges(); len(r) > 0 {
		prev = r[len(r)-1].Start
	}
	for _, n := range nums {
		if n == 0 || n < prev {
			return false
		}
		prev = n
	}
	return true
}

// addESearch takes the data of an ESEARCH response, but for the ranges of
// its ALL, which it appends to all for the caller to add to res.All in one
// sort (codec.SeqSet.AddRanges).
func (res *SearchResult) addESearch(d *codec.ESearch, all *[]wire.SeqRange) {
	res.FromESearch = true
	if d.Has&codec.ESearchAll != 0 {
		*all = append(*all, d.All.Ranges()...)
	}
	if d.Has&codec.ESearchMin != 0 {
		res.Min, res.HasMin = d.Min, true
	}
	if d.Has&codec.ESearchMax != 0 {
		res.Max, res.HasMax = d.Max, true
	}
	if d.Has&codec.ESearchCount != 0 {
		res.Count, res.HasCount = d.Count, true
	}
	if d.ModSeq > res.ModSeq {
		res.ModSeq = d.ModSeq
	}
}
