package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/session"
)

// nameMapper maps the source's mailbox names to the destination's: the
// personal namespace prefix and the hierarchy delimiter of each side, and
// the user's --map.
type nameMapper struct {
	src, dst             *commands.Client
	srcPrefix, dstPrefix string
	srcDelim, dstDelim   string
	// srcNS are the source's namespaces (none without NAMESPACE): a
	// mailbox is of the one whose prefix is its longest.
	srcNS []srcNamespace
	maps  map[string]string
	have  map[string]bool // the destination's mailboxes
	// raw holds the source's names as listed (sourceMailboxes), by
	// name: what copy --json's "mailbox_base64" gives (nameAsSent).
	raw map[string][]byte
	// selectable are the destination's mailboxes that can hold mail
	// (listed without \Noselect or \NonExistent, or created by this
	// run): a case variant among them is one mail may be merged into.
	selectable map[string]bool
}

// srcNamespace is one namespace of the source: its prefix and delimiter,
// and whether it is a personal one.
type srcNamespace struct {
	prefix, delim string
	personal      bool
}

// personal returns a server's personal namespace prefix and delimiter:
// from NAMESPACE when offered, else from LIST "" "". all are its
// namespaces (personal, other users', shared) as NAMESPACE gives them.
func personal(ctx context.Context, c *commands.Client) (prefix, delim string, all []srcNamespace, err error) {
	s := c.Session()
	if s.HasCap("NAMESPACE") || s.HasCap("IMAP4rev2") {
		ns, err := c.Namespace(ctx)
		if err != nil {
			return "", "", nil, err
		}
		if len(ns.Personal) > 0 {
			prefix, delim = ns.Personal[0].Prefix, ns.Personal[0].Delim
		}
		for _, d := range ns.Personal {
			all = append(all, srcNamespace{d.Prefix, d.Delim, true})
		}
		for _, d := range append(append([]commands.NamespaceDesc{}, ns.Other...), ns.Shared...) {
			all = append(all, srcNamespace{d.Prefix, d.Delim, false})
		}
		if delim != "" {
			return prefix, delim, all, nil
		}
	}
	boxes, err := c.List(ctx, "", nil)
	if err != nil {
		return "", "", nil, err
	}
	if len(boxes) > 0 {
		delim = boxes[0].Delim
	}
	return prefix, delim, all, nil
}

// isPersonal reports whether the mailbox name is in a personal namespace
// of ns: the namespace whose prefix is the longest that name starts with
// (a prefix "" matches every name; the prefix's own root, "user" of
// "user.", counts as its). INBOX is personal whatever the prefixes say.
// A name in no namespace, or a server without NAMESPACE, counts as
// personal.
func isPersonal(name string, ns []srcNamespace) bool {
	if strings.EqualFold(name, "INBOX") {
		return true
	}
	best, personal := -1, true
	for _, n := range ns {
		match := strings.HasPrefix(name, n.prefix) ||
			n.delim != "" && strings.HasSuffix(n.prefix, n.delim) && name == strings.TrimSuffix(n.prefix, n.delim)
		if match && len(n.prefix) > best {
			best, personal = len(n.prefix), n.personal
		}
	}
	return personal
}

func newNameMapper(ctx context.Context, src, dst *commands.Client, maps map[string]string) (*nameMapper, error) {
	m := &nameMapper{src: src, dst: dst, maps: maps, have: map[string]bool{}, selectable: map[string]bool{}}
	var err error
	if m.srcPrefix, m.srcDelim, m.srcNS, err = personal(ctx, src); err != nil {
		return nil, err
	}
	if m.dstPrefix, m.dstDelim, _, err = personal(ctx, dst); err != nil {
		return nil, err
	}
	boxes, err := dst.List(ctx, "*", nil)
	if err != nil {
		return nil, err
	}
	for _, b := range boxes {
		m.have[b.Name] = true
		if !b.HasAttr(`\Noselect`) && !b.HasAttr(`\NonExistent`) {
			m.selectable[b.Name] = true
		}
	}
	return m, nil
}

// sourceMailboxes lists the source's own selectable mailboxes: those of
// its personal namespace (see isPersonal), not other users' or shared
// ones, even when such a namespace has the prefix "" (Cyrus without
// altnamespace: personal "INBOX.", shared "").
//
// Two mailboxes the source lists whose names decode alike (a server that
// does not write names in modified UTF-7 lists "R&D" beside "R&-D") have
// the same MailboxInfo.Name, which reaches only the one listed last: the
// name is returned once, and clashes has an error naming both raw forms
// for it, which fails that mailbox. Copied by its Name, the one listed
// last was copied twice and the other never, silently.
func (m *nameMapper) sourceMailboxes(ctx context.Context) (names []string, clashes map[string]error, err error) {
	boxes, err := m.src.List(ctx, "*", nil)
	if err != nil {
		return nil, nil, err
	}
	raws := map[string][]string{} // Name → the raw names listed for it
	m.raw = make(map[string][]byte, len(boxes))
	for _, b := range boxes {
		raws[b.Name] = append(raws[b.Name], string(b.Raw))
		if _, ok := m.raw[b.Name]; !ok {
			m.raw[b.Name] = b.Raw
		}
	}
	seen := map[string]bool{}
	for _, b := range boxes {
		if b.HasAttr(`\Noselect`) || b.HasAttr(`\NonExistent`) {
			continue
		}
		if !isPersonal(b.Name, m.srcNS) || seen[b.Name] {
			continue
		}
		seen[b.Name] = true
		names = append(names, b.Name)
		if r := raws[b.Name]; len(r) > 1 {
			if clashes == nil {
				clashes = map[string]error{}
			}
			q := make([]string, len(r))
			for i, x := range r {
				q[i] = strconv.Quote(x)
			}
			clashes[b.Name] = fmt.Errorf("the source lists %d mailboxes whose names decode to this one (%s), which imapkit cannot tell apart: none of them is copied; rename all but one on the source", len(r), strings.Join(q, ", "))
		}
	}
	return names, clashes, nil
}

// asSent returns the source mailbox name's bytes as listed, in base64,
// when name does not give them back (nameAsSent), else "": copy --json's
// "mailbox_base64". A name not listed (one the user named that the listing
// did not give) is sent as given.
func (m *nameMapper) asSent(name string) string {
	raw, ok := m.raw[name]
	if !ok {
		return ""
	}
	return nameAsSent(name, raw, m.src.Session().UTF8Enabled())
}

// destClashes adds to clashes (made when nil) an error for each of names
// that the name mapping sends where it must not: to the destination
// mailbox another of names goes to as well (INBOX in any case is one
// mailbox: IMAP's INBOX is case-insensitive), or, for a name other than
// INBOX, to the destination's INBOX. Either merges mailboxes, silently:
// Cyrus's "INBOX.Inbox" becomes "Inbox", the INBOX of a destination with
// the prefix "", and "a/b" and "a_b" of a "." source both become "a_b" on
// a "/" one (a destination delimiter inside a level becomes "_"). Every
// mailbox of such a group fails, so none of them is copied, as
// sourceMailboxes fails the names that decode alike. A name the user
// mapped with --map goes where it was told: a group fails only when two of
// its names, or one other than INBOX sent to INBOX, got their destination
// from the mapping. A name that already has an error keeps it.
func (m *nameMapper) destClashes(names []string, clashes map[string]error) map[string]error {
	return nameClashes(names, m.dstName, func(n string) bool { _, ok := m.maps[n]; return ok }, clashes)
}

// nameClashes is destClashes for the mapping dst, under which mapped
// tells the names given with --map.
func nameClashes(names []string, dst func(string) string, mapped func(string) bool, clashes map[string]error) map[string]error {
	inbox := func(s string) bool { return strings.EqualFold(s, "INBOX") }
	key := func(d string) string {
		if inbox(d) {
			return "INBOX"
		}
		return d
	}
	groups := map[string][]string{} // destination → its source names, each once
	var order []string
	for _, n := range names {
		k := key(dst(n))
		if slices.Contains(groups[k], n) {
			continue
		}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], n)
	}
	for _, k := range order {
		g := groups[k]
		auto, intoInbox := 0, false
		for _, n := range g {
			if !mapped(n) {
				auto++
				intoInbox = intoInbox || k == "INBOX" && !inbox(n)
			}
		}
		if auto < 2 && !intoInbox {
			continue
		}
		q := make([]string, len(g))
		for i, n := range g {
			q[i] = strconv.Quote(n)
		}
		var err error
		if len(g) == 1 {
			err = fmt.Errorf("it would go to the destination's %s, which is its INBOX (INBOX is case-insensitive), and be merged into it: it is not copied; --map %s copies it under another name", strconv.Quote(dst(g[0])), shellQuote(g[0]+"=NAME"))
		} else {
			what := strconv.Quote(dst(g[0]))
			if k == "INBOX" {
				what = "INBOX (INBOX is case-insensitive)"
			}
			all := "all"
			if len(g) == 2 {
				all = "both"
			}
			err = fmt.Errorf("the source's %s would %s go to the destination's %s and be merged: none of them is copied; --map SRC=NAME copies one under another name", strings.Join(q, ", "), all, what)
		}
		for _, n := range g {
			if clashes[n] != nil {
				continue
			}
			if clashes == nil {
				clashes = map[string]error{}
			}
			clashes[n] = err
		}
	}
	return clashes
}

// dstName maps a source mailbox name to the destination's (by --map, or
// mapName), with INBOX's children named as the destination does: see
// inboxChild. A destination listing the name as given keeps it as given
// (a server that keeps the case of a child of "Inbox": the mailbox an
// earlier run filled), also when it lists the "INBOX"+delimiter form too:
// such a server keeps the two apart (Dovecot and Cyrus list only the
// latter), and the copy must not move to the other one
// (TestInboxChildBothListedKeepsCopy, found by review).
func (m *nameMapper) dstName(name string) string {
	d, ok := m.maps[name]
	if !ok {
		d = mapName(name, m.srcPrefix, m.srcDelim, m.dstPrefix, m.dstDelim)
	}
	if n := inboxChild(d, m.dstDelim); n != d && !m.have[d] {
		return n
	}
	return d
}

// inboxChild returns name with a leading "INBOX"+delim in any case
// written "INBOX"+delim: INBOX is case-insensitive, and its children's
// prefix with it. Outlook.com lists INBOX as "Inbox" and its children
// as "Inbox/Sub"; Dovecot creates "Inbox/Sub" as "INBOX/Sub" and lists it
// so, and a later run, not finding "Inbox/Sub" listed, CREATEd it again:
// NO [ALREADYEXISTS], the mailbox failed at every run after the first
// (TestInboxChildCaseDovecot, found by review).
func inboxChild(name, delim string) string {
	if delim == "" || len(name) <= 5+len(delim) || !strings.EqualFold(name[:5], "INBOX") || name[5:5+len(delim)] != delim {
		return name
	}
	return "INBOX" + name[5:]
}

// mapName moves name from one namespace (prefix, delimiter) to another.
// INBOX stays INBOX. A destination delimiter inside a level's name becomes
// "_", so that it does not make a new level. Two names can map to one, and
// a name other than INBOX to INBOX in another case: see destClashes.
func mapName(name, srcPrefix, srcDelim, dstPrefix, dstDelim string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	rel := strings.TrimPrefix(name, srcPrefix)
	levels := []string{rel}
	if srcDelim != "" {
		levels = strings.Split(rel, srcDelim)
	}
	if dstDelim != "" {
		for i, l := range levels {
			levels[i] = strings.ReplaceAll(l, dstDelim, "_")
		}
	}
	sep := dstDelim
	if sep == "" {
		sep = "_"
	}
	return dstPrefix + strings.Join(levels, sep)
}

// ensure creates the destination mailbox when it is missing; created
// says that it did. ours says that the state file records messages of
// this run's job copied to name (see oneMailbox: such a mailbox holds
// mail alike its variant's after a full copy of both, and its counts
// tell nothing).
//
// A destination mailbox known (listed, or created by this run) whose name
// equals name but for case is one name's mail may be merged into: a
// destination that does not tell names apart by case should refuse the
// CREATE (NO [ALREADYEXISTS]: the mailbox fails, nothing merges), but one
// that answers OK all the same took the mail of "foo" into "Foo",
// silently. After such a CREATE the destination's listing must hold both
// names, each as itself; else the mailbox fails, naming --map.
//
// The STATUS check (oneMailbox) is made whenever name has a selectable
// case variant, also when name is listed already: it was made only after
// this run's CREATE, and a second run, finding the name in LIST (the
// CREATE of the first was answered OK), merged its mail
// (TestCaseMergeSecondRun, found by review). A variant that is
// no mailbox (\Noselect or \NonExistent: Dovecot's parent "Foo" of
// "Foo/bar") is none to merge into; it failed the copy, its STATUS
// answered NO (TestCaseVariantNoselectParentDovecot).
func (m *nameMapper) ensure(ctx context.Context, name string, ours bool) (created bool, err error) {
	if strings.EqualFold(name, "INBOX") {
		return false, nil
	}
	other := m.caseVariant(name)
	if m.have[name] {
		if other == "" {
			return false, nil
		}
		// Listed: both names are, no LIST to ask. The counts are
		// evidence only while name holds none of our copies.
		if why, err := m.oneMailbox(ctx, name, other, false, !ours); err != nil {
			return false, err
		} else if why != "" {
			return false, fmt.Errorf("%w: the destination lists %s and %s, but %s: they are one mailbox, and the mail would be merged into %s", errCaseMerge, strconv.Quote(name), strconv.Quote(other), why, strconv.Quote(other))
		}
		return false, nil
	}
	if err := m.dst.Create(ctx, name, nil); err != nil {
		return false, err
	}
	if other != "" {
		boxes, err := m.dst.List(ctx, "*", nil)
		if err != nil {
			return false, err
		}
		listed := map[string]bool{}
		for _, b := range boxes {
			listed[b.Name] = true
		}
		if !listed[name] || !listed[other] {
			return false, fmt.Errorf("%w: the destination answered OK to its CREATE though it has %s, and does not list both: it does not tell mailbox names apart by case, and the mail would be merged into %s", errCaseMerge, strconv.Quote(other), strconv.Quote(other))
		}
		if why, err := m.oneMailbox(ctx, name, other, true, true); err != nil {
			return false, err
		} else if why != "" {
			return false, fmt.Errorf("%w: the destination lists %s and %s, but %s: they are one mailbox, and the mail would be merged into %s", errCaseMerge, strconv.Quote(name), strconv.Quote(other), why, strconv.Quote(other))
		}
	}
	m.have[name] = true
	m.selectable[name] = true
	return true, nil
}

// oneMailbox tells, for name with a selectable case variant (after its
// CREATE, or listed already), whether the destination
// keeps it and other, its name but for case, as one mailbox though it
// lists both (a server that lists every name it was given): why says how
// it knows, "" when it does not. created says name was just created by
// this run (for the message). It asks a STATUS of each:
//   - their MAILBOXIDs (OBJECTID, RFC 8474), when the server gives them,
//     each in a STATUS of its own: equal, one mailbox; else two, whatever
//     the rest. Cyrus 3.6 answers MAILBOXID asked with MESSAGES (or
//     UNSEEN, SIZE) with raw bytes no codec decodes, which failed the
//     mailbox (exit 3) at every run (TestCopyCaseVariantsCyrus,
//     found by review); alone it answers an atom. A MAILBOXID that still
//     does not decode counts as not given: never a failure;
//   - else, when fresh (name should hold none of our copies yet: just
//     created by this run, or the state file records none copied to it),
//     name holding messages, with the same count, UIDNEXT and
//     UIDVALIDITY as other: other's mail (two mailboxes filled alike, on
//     a server giving every mailbox the same UIDVALIDITY, would be taken
//     for one: a false refusal, exit 1, never a merge). Not fresh, name
//     holds our copies, and two mailboxes copied whole hold alike
//     counts: a re-run after a full copy of "Foo" and "foo" to a server
//     without OBJECTID giving both the same UIDVALIDITY (UW-IMAP and
//     Courier derive it from the creation time) refused both, at every
//     run (TestCaseVariantsSecondRunRefused, found by review).
//     A run that refused name records nothing copied to it, so the next
//     still compares (TestCaseMergeSecondRun).
//
// A STATUS of other answered NO (no such mailbox: a variant listed but
// gone, or a parent whose attributes did not say it is none) means
// nothing to merge into: "", no error.
//
// Equal UIDVALIDITYs alone tell nothing (a server may give every
// mailbox the same), and nor do two empty mailboxes: with no MAILBOXID,
// a server that merges them while other is empty is not found (only an
// APPEND to one seen in the other would tell, which adds a message to
// the user's mailbox). Called only for a name with a case variant, so
// that other runs ask no more.
func (m *nameMapper) oneMailbox(ctx context.Context, name, other string, created, fresh bool) (why string, err error) {
	if m.dst.Session().HasCap("OBJECTID") {
		a, err := m.mailboxID(ctx, name)
		if err != nil {
			return "", err
		}
		b, err := m.mailboxID(ctx, other)
		if errors.Is(err, session.ErrNo) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		if a != "" && b != "" {
			if a == b {
				return fmt.Sprintf("both have the MAILBOXID %s", printable(a)), nil
			}
			return "", nil
		}
	}
	if !fresh {
		return "", nil
	}
	items := commands.StatusMessages | commands.StatusUIDNext | commands.StatusUIDValidity
	a, err := m.dst.Status(ctx, name, items)
	if err != nil {
		return "", err
	}
	b, err := m.dst.Status(ctx, other, items)
	if errors.Is(err, session.ErrNo) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if a.Messages > 0 && a.Messages == b.Messages && a.UIDNext == b.UIDNext && a.UIDValidity == b.UIDValidity {
		what := "the one just created"
		if !created {
			what = strconv.Quote(name) + " (no copy to it recorded)"
		}
		return fmt.Sprintf("%s holds %s, with the UIDNEXT (%d) and UIDVALIDITY (%d) of the other", what, plural(int(a.Messages), "message"), a.UIDNext, a.UIDValidity), nil
	}
	return "", nil
}

// mailboxID asks the destination's MAILBOXID of name in a STATUS of its
// own: "" when the server gives none, or one that cannot be decoded
// (Cyrus 3.6's garbage: see oneMailbox). A STATUS answered NO is
// returned as such. A DecodeError in an error matching session.ErrAborted
// is no garbled MAILBOXID: a response whose rest could not be skipped
// (out of step) ended the session with it, and the error is returned
// (TestCopyMailboxIDAbortNotGarbage).
func (m *nameMapper) mailboxID(ctx context.Context, name string) (string, error) {
	st, err := m.dst.Status(ctx, name, commands.StatusMailboxID)
	var de *codec.DecodeError
	if errors.As(err, &de) && !errors.Is(err, session.ErrAborted) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return string(st.MailboxID), nil
}

// errCaseMerge is the error of a destination mailbox that would be
// another's, whose name differs from it only by case (nameMapper.ensure).
var errCaseMerge = errors.New("not copied: its name differs only by case from another mailbox of the destination")

// caseVariant returns a selectable destination mailbox known
// (nameMapper.selectable: listed or created by this run) whose
// name equals name but for case (the least such, for a stable message),
// or "".
func (m *nameMapper) caseVariant(name string) string {
	other := ""
	for h := range m.selectable {
		if h != name && strings.EqualFold(h, name) && (other == "" || h < other) {
			other = h
		}
	}
	return other
}

// foldInboxChildren names INBOX's children typed (or recorded) with
// INBOX in another case ("inbox/Sub") as the source lists them
// ("INBOX/Sub"), once the source's delimiter is known. inboxName folds
// only INBOX itself: typed "inbox/Sub" (which Dovecot selects: its INBOX
// prefix is case-insensitive), a mailbox was recorded under "inbox/Sub",
// and a later run naming "INBOX/Sub" (or none: the source lists
// "INBOX/Sub") found no entry and copied it whole again next to the
// copies made before (TestCopyTypedInboxChildCase, found by review).
//
// RFC 3501 makes INBOX case-insensitive, not its children's prefix: a
// name is folded only when the source does not list it as written and
// lists the "INBOX"+delimiter form; a server listing both keeps them
// apart, and so does the fold. The typed names (names, returned folded
// and each once), the --map sources (m.maps, replaced by a folded copy:
// the map may be shared by the accounts of --accounts), the
// --restart-mailbox names (restart, returned folded) and the state's
// entries (moved when the folded name has none, else foldEntries) are
// folded alike. Two --map sources folding to one with different targets
// are refused. The source is listed only when some name needs it.
func (m *nameMapper) foldInboxChildren(ctx context.Context, names []string, restart map[string]bool, state *copyState) ([]string, map[string]bool, error) {
	d := m.srcDelim
	need := func(n string) bool { return inboxChild(n, d) != n }
	needed := slices.ContainsFunc(names, need) || slices.ContainsFunc(state.boxNames(), need)
	for k := range m.maps {
		needed = needed || need(k)
	}
	for k := range restart {
		needed = needed || need(k)
	}
	if !needed {
		return names, restart, nil
	}
	boxes, err := m.src.List(ctx, "*", nil)
	if err != nil {
		return nil, nil, err
	}
	listed := map[string]bool{}
	for _, b := range boxes {
		listed[b.Name] = true
	}
	fold := func(n string) string {
		if f := inboxChild(n, d); f != n && !listed[n] && listed[f] {
			return f
		}
		return n
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n = fold(n); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if slices.ContainsFunc(slices.Collect(maps.Keys(m.maps)), need) {
		fm := make(map[string]string, len(m.maps))
		from := map[string]string{} // folded → the source as typed
		for _, k := range slices.Sorted(maps.Keys(m.maps)) {
			f := fold(k)
			if v, ok := fm[f]; ok && !codec.ExactMailbox(v, m.maps[k]) {
				// It named the folded form as the other's
				// ("INBOX/Sub=Y" for a typed "Inbox/Sub=Y").
				return nil, nil, usagef("--map %s and --map %s: one source mailbox (%s) mapped to two", shellQuote(from[f]+"="+v), shellQuote(k+"="+m.maps[k]), printable(f))
			} else if ok {
				// One destination ("INBOX" and "inbox": INBOX), as
				// mapFlag.Set compares them: the first kept.
				continue
			}
			fm[f], from[f] = m.maps[k], k
		}
		m.maps = fm
	}
	var fr map[string]bool
	if restart != nil {
		fr = make(map[string]bool, len(restart))
		for k, v := range restart {
			fr[fold(k)] = v
		}
	}
	// The entries of one mailbox under several names ("inbox/Sub" and
	// "INBOX/Sub": an older imapkit copied it once per name) are settled
	// as INBOX's are (copyState.foldEntries): the one recording copies
	// kept, or the mailbox refused while several do. Both were kept, the
	// one under "inbox/Sub" never used, and named by the advice as
	// another source mailbox whose copies the destination held
	// (TestCopyStateInboxChildEntriesFold, found by review).
	same := map[string][]string{}
	for _, k := range state.boxNames() {
		if f := fold(k); f != k {
			same[f] = append(same[f], k)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(same)) {
		keys := same[f]
		if state.Mailboxes[f] == nil && len(keys) == 1 {
			state.Mailboxes[f] = state.Mailboxes[keys[0]]
			delete(state.Mailboxes, keys[0])
			continue
		}
		if state.Mailboxes[f] != nil {
			keys = append(keys, f)
		}
		slices.Sort(keys)
		state.foldEntries(f, keys)
	}
	return out, fr, nil
}
