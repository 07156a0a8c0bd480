package main

import (
	"context"
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
	skip                 []string // the source's other-users and shared prefixes
	maps                 map[string]string
	have                 map[string]bool // the destination's mailboxes
}

// personal returns a server's personal namespace prefix and delimiter:
// from NAMESPACE when offered, else from LIST "" "".
func personal(ctx context.Context, c *commands.Client) (prefix, delim string, others []string, err error) {
	s := c.Session()
	if s.HasCap("NAMESPACE") || s.HasCap("IMAP4rev2") {
		ns, err := c.Namespace(ctx)
		if err != nil {
			return "", "", nil, err
		}
		if len(ns.Personal) > 0 {
			prefix, delim = ns.Personal[0].Prefix, ns.Personal[0].Delim
		}
		for _, d := range append(append([]commands.NamespaceDesc{}, ns.Other...), ns.Shared...) {
			if d.Prefix != "" {
				others = append(others, d.Prefix)
			}
		}
		if delim != "" {
			return prefix, delim, others, nil
		}
	}
	boxes, err := c.List(ctx, "", nil)
	if err != nil {
		return "", "", nil, err
	}
	if len(boxes) > 0 {
		delim = boxes[0].Delim
	}
	return prefix, delim, others, nil
}

func newNameMapper(ctx context.Context, src, dst *commands.Client, maps map[string]string) (*nameMapper, error) {
	m := &nameMapper{src: src, dst: dst, maps: maps, have: map[string]bool{}}
	var err error
	if m.srcPrefix, m.srcDelim, m.skip, err = personal(ctx, src); err != nil {
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

// sourceMailboxes lists the source's own selectable mailboxes.
func (m *nameMapper) sourceMailboxes(ctx context.Context) ([]string, error) {
	boxes, err := m.src.List(ctx, "*", nil)
	if err != nil {
		return nil, err
	}
	var names []string
next:
	for _, b := range boxes {
		if b.HasAttr(`\Noselect`) || b.HasAttr(`\NonExistent`) {
			continue
		}
		for _, p := range m.skip {
			if strings.HasPrefix(b.Name, p) {
				continue next
			}
		}
		names = append(names, b.Name)
	}
	return names, nil
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
