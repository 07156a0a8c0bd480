package commands

import (
	"context"
	"fmt"
	"math"
	"strings"

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

func quotas(data []codec.Response) []*Quota {
	var out []*Quota
	for _, d := range data {
		if q, ok := d.(*codec.Quota); ok {
			qq := &Quota{Root: string(q.Root)}
			for _, r := range q.Resources {
				qq.Resources = append(qq.Resources, QuotaResource{Name: strings.ToUpper(string(r.Name)), Usage: r.Usage, Limit: r.Limit})
			}
			out = append(out, qq)
		}
	}
	return out
}

// GetQuota sends GETQUOTA for a quota root.
func (c *Client) GetQuota(ctx context.Context, root string) (*Quota, error) {
	r, err := c.run(ctx, &session.Command{Name: "GETQUOTA", Args: func(e *wire.Encoder) { e.SP().AString(root) }})
	if err != nil {
		return nil, err
	}
	if q := quotas(r.Data); len(q) > 0 {
		return q[0], nil
	}
	return nil, &MissingError{Command: "GETQUOTA", Response: "QUOTA"}
}

// GetQuotaRoot sends GETQUOTAROOT: the quota roots of a mailbox and their
// quotas.
func (c *Client) GetQuotaRoot(ctx context.Context, mailbox string) (roots []string, qs []*Quota, err error) {
	r, err := c.run(ctx, c.target(&session.Command{Name: "GETQUOTAROOT", Args: func(e *wire.Encoder) { c.mailbox(e, mailbox) }}, nil, mailbox))
	if err != nil {
		return nil, nil, err
	}
	for _, d := range r.Data {
		if qr, ok := d.(*codec.QuotaRoot); ok {
			for _, root := range qr.Roots {
				roots = append(roots, string(root))
			}
		}
	}
	return roots, quotas(r.Data), nil
}

// SetQuota sends SETQUOTA (usually for an administrator) with the limits
// by resource name; an empty map removes the limits.
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
	if q := quotas(r.Data); len(q) > 0 {
		return q[0], nil
	}
	return nil, nil
}
