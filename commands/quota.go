package commands

import (
	"context"
	"fmt"
	"math"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/wire"
)

// Quota is a quota root and its resources (RFC 9208).
type Quota struct {
	Root      string
	Resources []QuotaResource
}

// QuotaResource is one resource of a quota root: STORAGE (in KiB),
// MESSAGE, MAILBOX, ANNOTATION-STORAGE, ...
type QuotaResource struct {
	Name         string
	Usage, Limit uint64
}

// quotas returns the quotas of roots (as sent, byte for byte: a quota
// root is the server's string) in the QUOTA responses among data, one
// Quota per root in the order the roots first came. A server may send a
// root's resources in several QUOTA responses (RFC 9208 names no limit
// to them): they are merged, so that none is lost (GetQuota kept the
// first QUOTA alone). A resource named again for a root, in the same
// QUOTA or a later one, takes the later usage and limit in its first
// place: of two answers the last is taken, as for ID and NAMESPACE.
// Both the roots and a root's resources are looked up in maps: a
// server's QUOTAROOT may name a line's worth of roots (hundreds of
// thousands), and searching them for each of as many QUOTA responses was
// quadratic (TestGetQuotaRootManyRootsLinear); a QUOTA may likewise name
// a line's worth of resources.
func quotas(data []codec.Response, roots ...string) []*Quota {
	in := rootMatcher(roots)
	type merged struct {
		q     *Quota
		index map[string]int // resource name -> its place in q.Resources
	}
	var out []*Quota
	var byRoot map[string]*merged
	for _, d := range data {
		q, ok := d.(*codec.Quota)
		if !ok || !in(q.Root) {
			continue
		}
		m := byRoot[string(q.Root)]
		if m == nil {
			if byRoot == nil {
				byRoot = make(map[string]*merged, 1)
			}
			m = &merged{q: &Quota{Root: string(q.Root)}, index: make(map[string]int, len(q.Resources))}
			byRoot[m.q.Root] = m
			out = append(out, m.q)
		}
		for _, r := range q.Resources {
			res := QuotaResource{Name: upperASCII(string(r.Name)), Usage: r.Usage, Limit: r.Limit}
			countResourceCompares(1)
			if i, ok := m.index[res.Name]; ok {
				m.q.Resources[i] = res
				continue
			}
			m.index[res.Name] = len(m.q.Resources)
			m.q.Resources = append(m.q.Resources, res)
		}
	}
	return out
}

// rootMatcher returns the test of whether a QUOTA's root is one of roots.
// A few are searched as a list; more go in a set, so that the test costs
// one lookup whatever their number.
func rootMatcher(roots []string) func(root []byte) bool {
	if len(roots) <= maxListedRoots {
		return func(root []byte) bool {
			for i, r := range roots {
				if r == string(root) {
					countRootCompares(i + 1)
					return true
				}
			}
			countRootCompares(len(roots))
			return false
		}
	}
	set := make(map[string]struct{}, len(roots))
	for _, r := range roots {
		set[r] = struct{}{}
	}
	return func(root []byte) bool {
		countRootCompares(1)
		_, ok := set[string(root)]
		return ok
	}
}

// maxListedRoots is the most quota roots quotas searches as a list; more
// go in a set. Servers name one or two.
const maxListedRoots = 8

// testHookRootCompares, when set (tests only), is given the number of
// roots rootMatcher's test compared a QUOTA's root with (1 for a lookup
// in the set): a count of the work, which a loaded machine does not
// stretch as it does the time.
var testHookRootCompares func(n int)

// testHookResourceCompares, when set (tests only), is given the number
// of resources kept that quotas compared a resource's name with (1 for a
// lookup in the index).
var testHookResourceCompares func(n int)

func countResourceCompares(n int) {
	if h := testHookResourceCompares; h != nil {
		h(n)
	}
}

func countRootCompares(n int) {
	if h := testHookRootCompares; h != nil {
		h(n)
	}
}

// GetQuota sends GETQUOTA for a quota root. The answer is the QUOTA of
// that root (byte for byte), or the QUOTA responses of that root merged
// when the server sends several (a resource named again takes the later
// values); a QUOTA of another root (RFC 9208 lets a server send them
// unasked) is not taken: without one of the root, a *MissingError.
func (c *Client) GetQuota(ctx context.Context, root string) (*Quota, error) {
	r, err := c.run(ctx, &session.Command{Name: "GETQUOTA", Args: func(e *wire.Encoder) { e.SP().AString(root) }})
	if err != nil {
		return nil, err
	}
	if q := quotas(r.Data, root); len(q) > 0 {
		return q[0], nil
	}
	return nil, &MissingError{Command: "GETQUOTA", Response: "QUOTA"}
}

// GetQuotaRoot sends GETQUOTAROOT: the quota roots of a mailbox and their
// quotas. The roots are those of the QUOTAROOT responses that name the
// mailbox (matched as MyRights matches it), each once in the order first
// named, the quotas those of these roots: a QUOTAROOT of another mailbox,
// or a QUOTA of a root the mailbox is not under, is not taken; a root's QUOTA responses are merged into
// one Quota, as in GetQuota. An answer with QUOTAROOT responses of
// other mailboxes only is a *MissingError; one with no QUOTAROOT at all
// is no roots, no error: Dovecot 2.3 answers GETQUOTAROOT so ("OK No
// quota.", or a bare OK for a mailbox of a namespace without an owner),
// where RFC 9208 section 4.2.2 would have "* QUOTAROOT INBOX".
func (c *Client) GetQuotaRoot(ctx context.Context, mailbox string) (roots []string, qs []*Quota, err error) {
	r, err := c.run(ctx, c.target(&session.Command{Name: "GETQUOTAROOT", Args: func(e *wire.Encoder) { c.mailbox(e, mailbox) }}, nil, mailbox))
	if err != nil {
		return nil, nil, err
	}
	want, _ := c.encodeMailbox(mailbox) // the command went: no error
	own := ownMailbox(r.Data, want, quotaRootMailbox)
	answered, others := false, false
	var seen map[string]bool // a root named again is one root
	for _, d := range r.Data {
		qr, ok := d.(*codec.QuotaRoot)
		others = others || ok
		if ok && own(d) {
			answered = true
			for _, root := range qr.Roots {
				if seen[string(root)] {
					continue
				}
				if seen == nil {
					seen = make(map[string]bool, len(qr.Roots))
				}
				seen[string(root)] = true
				roots = append(roots, string(root))
			}
		}
	}
	if !answered && others {
		return nil, nil, &MissingError{Command: "GETQUOTAROOT", Response: "QUOTAROOT"}
	}
	return roots, quotas(r.Data, roots...), nil
}

func quotaRootMailbox(d codec.Response) ([]byte, bool) {
	q, ok := d.(*codec.QuotaRoot)
	if !ok {
		return nil, false
	}
	return q.Mailbox, true
}

// SetQuota sends SETQUOTA (usually for an administrator) with the limits
// by resource name; an empty map removes the limits. It returns the QUOTA
// of the root the server sent in its answer (nil if none; one of another
// root is not taken; several of the root are merged, as in GetQuota).
func (c *Client) SetQuota(ctx context.Context, root string, limits map[string]uint64) (*Quota, error) {
	seen := make(map[string]string, len(limits))
	for k, v := range limits {
		if v > math.MaxInt64 {
			return nil, fmt.Errorf("commands: SetQuota %s %d: a limit is at most 2^63-1 (RFC 9208)", k, v)
		}
		// Resource names are sent upper-cased: "storage" and "STORAGE"
		// went as the same resource twice, with two limits.
		if other, ok := seen[upperASCII(k)]; ok {
			return nil, fmt.Errorf("commands: SetQuota names resource %s twice (%q and %q)", upperASCII(k), other, k)
		}
		seen[upperASCII(k)] = k
	}
	r, err := c.run(ctx, &session.Command{Name: "SETQUOTA", Args: func(e *wire.Encoder) {
		e.SP().AString(root).SP().List(func(e *wire.Encoder) {
			for i, k := range sortedKeys(limits) {
				if i > 0 {
					e.SP()
				}
				atom(e, upperASCII(k)).SP().Number(limits[k])
			}
		})
	}})
	if err != nil {
		return nil, err
	}
	if q := quotas(r.Data, root); len(q) > 0 {
		return q[0], nil
	}
	return nil, nil
}
