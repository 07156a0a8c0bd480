package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// Criteria are SEARCH criteria (RFC 9051 section 6.4.4, RFC 3501 section
// 6.4.4 and extensions). Every field set must match (AND); the zero value
// matches every message (ALL). Dates compare whole days, in the server's
// time zone; only the date of a time.Time is sent.
type Criteria struct {
	// Set restricts to a set of sequence numbers or UIDs.
	Set *Set
	// Flags must all be set, NotFlags all unset: system flags (\Seen,
	// \Answered, \Flagged, \Deleted, \Draft, \Recent) or keywords.
	Flags, NotFlags []string
	// Internal date (the date the server received the message).
	Since, Before, On time.Time
	// The Date header.
	SentSince, SentBefore, SentOn time.Time
	// Substrings of header fields, the body, or the whole message.
	From, To, Cc, Bcc, Subject, Body, Text []string
	// Header matches header fields by name and substring ("" matches any
	// message that has the field).
	Header []HeaderCriterion
	// Larger and Smaller compare RFC822.SIZE; 0 for no bound.
	Larger, Smaller int64
	// ModSeq matches messages with a higher mod-sequence (CONDSTORE).
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
		if cr.Set.UID {
			e.Atom("UID").SP()
		}
		if cr.Set.Saved {
			e.Raw("$")
		} else {
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
		{"SENTSINCE", cr.SentSince}, {"SENTBEFORE", cr.SentBefore}, {"SENTON", cr.SentOn}}
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
		key("EMAILID").SP().Atom(cr.EmailID)
	}
	if cr.ThreadID != "" {
		key("THREADID").SP().Atom(cr.ThreadID)
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

// hasNonASCII reports whether any string of the criteria is not 7-bit.
func (cr *Criteria) hasNonASCII() bool {
	check := func(l ...string) bool {
		for _, s := range l {
			for i := 0; i < len(s); i++ {
				if s[i] >= 0x80 {
					return true
				}
			}
		}
		return false
	}
	for _, l := range [][]string{cr.From, cr.To, cr.Cc, cr.Bcc, cr.Subject, cr.Body, cr.Text} {
		if check(l...) {
			return true
		}
	}
	for _, h := range cr.Header {
		if check(h.Name, h.Value) {
			return true
		}
	}
	for i := range cr.Not {
		if cr.Not[i].hasNonASCII() {
			return true
		}
	}
	for i := range cr.Or {
		if cr.Or[i][0].hasNonASCII() || cr.Or[i][1].hasNonASCII() {
			return true
		}
	}
	return false
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
	// none, or UTF-8 when a string is not ASCII (and UTF-8 is not
	// enabled: then no charset may be given).
	Charset string
	// Return asks for ESEARCH; nil for a plain SEARCH (whose result fills
	// All, Count, Min and Max all the same).
	Return *SearchReturn
}

// SearchResult is the answer to Search. Nums are UIDs when UID is set.
type SearchResult struct {
	UID bool
	// All holds the matching numbers, compact; empty when Return did not
	// ask for ALL.
	All         codec.SeqSet
	Min, Max    uint32
	Count       uint32
	ModSeq      uint64 // the highest mod-sequence with MODSEQ criteria
	HasMin      bool
	HasMax      bool
	HasCount    bool
	FromESearch bool // the answer was ESEARCH
}

// charset decides the CHARSET argument.
func (c *Client) charset(cr *Criteria, o *SearchOptions) (string, error) {
	if c.utf8() {
		if o.Charset != "" && !strings.EqualFold(o.Charset, "UTF-8") {
			return "", errors.New("commands: no CHARSET may be given once UTF-8 is enabled")
		}
		return "", nil // RFC 6855 section 3: none
	}
	if o.Charset != "" {
		return o.Charset, nil
	}
	if cr.hasNonASCII() {
		return "UTF-8", nil
	}
	return "", nil
}

// Search sends SEARCH (UID SEARCH with opts.UID), or ESEARCH's form of it
// with opts.Return. A nil criteria matches every message.
func (c *Client) Search(ctx context.Context, criteria *Criteria, opts *SearchOptions) (*SearchResult, error) {
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	var cr Criteria
	if criteria != nil {
		cr = *criteria
	}
	cs, err := c.charset(&cr, &o)
	if err != nil {
		return nil, err
	}
	if o.Return != nil && o.Return.Save && !c.hasCap("SEARCHRES") {
		return nil, fmt.Errorf("%w: SEARCHRES", ErrUnsupported)
	}
	esearch := o.Return != nil && c.hasCap("ESEARCH")
	name := "SEARCH"
	if o.UID {
		name = "UID SEARCH"
	}
	r, err := c.run(ctx, &session.Command{Name: name, Args: func(e *wire.Encoder) {
		if esearch {
			e.SP().Atom("RETURN").SP().List(func(e *wire.Encoder) { atoms(e, o.Return.names()) })
		}
		if cs != "" {
			e.SP().Atom("CHARSET").SP().AString(cs)
		}
		cr.encode(e)
	}})
	if err != nil {
		return nil, err
	}
	res := &SearchResult{UID: o.UID}
	for _, d := range r.Data {
		switch d := d.(type) {
		case *codec.Search:
			for _, n := range d.Nums {
				res.All.AddNum(n)
			}
			if d.ModSeq > res.ModSeq {
				res.ModSeq = d.ModSeq
			}
		case *codec.ESearch:
			res.addESearch(d)
		}
	}
	res.All.Compact()
	if o.Return == nil || !res.FromESearch {
		// A plain SEARCH (or an IMAP4rev2 server answering one with
		// ESEARCH ALL): the other fields follow from the set.
		n, _ := res.All.Len()
		res.Count, res.HasCount = uint32(n), true
		if rg := res.All.Ranges(); len(rg) > 0 {
			res.Min, res.Max, res.HasMin, res.HasMax = rg[0].Start, rg[len(rg)-1].Stop, true, true
		}
	}
	return res, nil
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

// addESearch takes the data of an ESEARCH response.
func (res *SearchResult) addESearch(d *codec.ESearch) {
	res.FromESearch = true
	if d.Has&codec.ESearchAll != 0 {
		for _, rg := range d.All.Ranges() {
			res.All.AddRange(rg.Start, rg.Stop)
		}
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
