package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/imapkit/imapkit/commands"
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
	m := &nameMapper{src: src, dst: dst, maps: maps, have: map[string]bool{}}
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
	for _, b := range boxes {
		raws[b.Name] = append(raws[b.Name], string(b.Raw))
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

// dstName maps a source mailbox name to the destination's.
func (m *nameMapper) dstName(name string) string {
	if d, ok := m.maps[name]; ok {
		return d
	}
	return mapName(name, m.srcPrefix, m.srcDelim, m.dstPrefix, m.dstDelim)
}

// mapName moves name from one namespace (prefix, delimiter) to another.
// INBOX stays INBOX. A destination delimiter inside a level's name becomes
// "_", so that it does not make a new level.
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

// ensure creates the destination mailbox when it is missing.
func (m *nameMapper) ensure(ctx context.Context, name string) error {
	if m.have[name] || strings.EqualFold(name, "INBOX") {
		return nil
	}
	if err := m.dst.Create(ctx, name, nil); err != nil {
		return err
	}
	m.have[name] = true
	return nil
}
