package commands_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
)

// attribution runs, from six goroutines at once on one Client for a
// second, commands whose untagged answers carry no tag: UID SEARCH and UID
// SORT with a different answer each, LIST of different names, STATUS,
// MYRIGHTS, GETQUOTAROOT and GETMETADATA of different mailboxes, and
// NAMESPACE; SearchIter and ListIter left early (break, or their
// context's end) with a command run in their loop. Each must get its own
// answer, as it does alone. Dovecot
// answers pipelined SEARCH commands with all their data first, then
// their tagged OKs: the oldest took every answer.
func attribution(t *testing.T, c *commands.Client, mb string, n int, names []string, counts map[string]uint32) {
	ctx := dvCtx(t)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	// What each command answers when it runs alone.
	ns, err := c.Namespace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantNS := fmt.Sprint(ns)
	rights := map[string]string{}
	roots := map[string]string{}
	for i, name := range names {
		r, err := c.MyRights(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		rights[name] = r
		rs, qs, err := c.GetQuotaRoot(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		roots[name] = fmt.Sprint(rs, len(qs))
		if err := c.SetMetadata(ctx, name, []commands.MetadataEntry{{Name: "/private/comment", Value: []byte(fmt.Sprint("comment ", i))}}); err != nil {
			t.Fatal(err)
		}
	}
	rctx, stop := context.WithTimeout(ctx, time.Second)
	defer stop()
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; rctx.Err() == nil; i++ {
				var err error
				name := names[(g+i)%len(names)]
				switch (g + i) % 12 {
				case 0:
					k := uint32(1 + (g*7+i)%n)
					set := commands.UIDs(k)
					var r *commands.SearchResult
					r, err = c.Search(ctx, &commands.Criteria{Set: &set}, &commands.SearchOptions{UID: true})
					if err == nil && (!r.All.Contains(k) || func() bool { l, _ := r.All.Len(); return l != 1 }()) {
						err = fmt.Errorf("UID SEARCH UID %d found %v", k, r.All)
					}
				case 1:
					var l []*commands.MailboxInfo
					l, err = c.List(ctx, name, nil)
					if err == nil && (len(l) != 1 || l[0].Name != name) {
						err = fmt.Errorf("LIST %q found %d: %+v", name, len(l), l)
					}
				case 2:
					var st *commands.MailboxStatus
					st, err = c.Status(ctx, name, commands.StatusMessages)
					if err == nil && (st.Name != name || st.Messages != counts[name]) {
						err = fmt.Errorf("STATUS %q answered for %q, %d messages; want %d", name, st.Name, st.Messages, counts[name])
					}
				case 3:
					var r string
					r, err = c.MyRights(ctx, name)
					if err == nil && r != rights[name] {
						err = fmt.Errorf("MYRIGHTS %q: %q; want %q", name, r, rights[name])
					}
				case 4:
					rs, qs, e := c.GetQuotaRoot(ctx, name)
					if err = e; err == nil && fmt.Sprint(rs, len(qs)) != roots[name] {
						err = fmt.Errorf("GETQUOTAROOT %q: %v; want %v", name, fmt.Sprint(rs, len(qs)), roots[name])
					}
				case 5:
					var got *commands.Namespace
					got, err = c.Namespace(ctx)
					if err == nil && fmt.Sprint(got) != wantNS {
						err = fmt.Errorf("NAMESPACE: %v; want %v", got, wantNS)
					}
				case 6:
					k := uint32(1 + (g*5+i)%n)
					set := commands.UIDs(k)
					var r []uint32
					r, err = c.Sort(ctx, []commands.SortKey{{Key: "ARRIVAL"}}, &commands.Criteria{Set: &set}, &commands.SearchOptions{UID: true})
					if err == nil && (len(r) != 1 || r[0] != k) {
						err = fmt.Errorf("UID SORT UID %d: %v", k, r)
					}
				case 8:
					// An iterator left early, by break or by its
					// context's end, with a command run in its loop.
					ictx, cancel := context.WithCancel(ctx)
					k := 0
					for uid, e := range c.SearchIter(ictx, &commands.Criteria{}, &commands.SearchOptions{UID: true}) {
						if err = e; err != nil {
							err = cutShort(err, k)
							break
						}
						if k++; uid != uint32(k) {
							err = fmt.Errorf("UID SEARCH ALL: %d at %d", uid, k)
							break
						}
						if _, err = c.Status(ctx, name, commands.StatusMessages); err != nil || i%2 == 0 {
							break
						}
						cancel()
					}
					cancel()
				case 9:
					ictx, cancel := context.WithCancel(ctx)
					k := 0
					for mi, e := range c.ListIter(ictx, "*", nil) {
						if err = e; err != nil {
							err = cutShort(err, k)
							break
						}
						k++
						if mi.Name == "" {
							err = errors.New("LIST: a mailbox without a name")
							break
						}
						if _, err = c.MyRights(ctx, name); err != nil || i%2 == 0 {
							break
						}
						cancel()
					}
					cancel()
				case 10:
					// LIST-STATUS beside STATUS of the same mailboxes:
					// both carry STATUS responses.
					var l []*commands.MailboxInfo
					l, err = c.List(ctx, "attr*", &commands.ListOptions{ReturnStatus: commands.StatusMessages})
					for _, m := range l {
						if err == nil && slices.Contains(names, m.Name) && (m.Status == nil || m.Status.Name != m.Name || m.Status.Messages != counts[m.Name]) {
							err = fmt.Errorf("LIST RETURN (STATUS): %q has status %+v", m.Name, m.Status)
						}
					}
					if err == nil && len(l) < len(names) {
						err = fmt.Errorf("LIST attr* found %d mailboxes; want %d", len(l), len(names))
					}
				case 11:
					// Do's Want takes everything: only what no other
					// command wants.
					var r *session.Result
					r, err = c.Do(ctx, "NOOP", nil)
					for _, d := range r.Data {
						switch d.(type) {
						case *codec.Search, *codec.Sort, *codec.List, *codec.MailboxStatus, *codec.MyRights,
							*codec.Quota, *codec.QuotaRoot, *codec.Namespace, *codec.Metadata:
							err = fmt.Errorf("NOOP (Do) took a %s response", codec.ResponseName(d))
						}
					}
				case 7:
					var es []commands.MetadataEntry
					es, _, err = c.GetMetadata(ctx, name, []string{"/private/comment"}, nil)
					want := fmt.Sprint("comment ", slices.Index(names, name))
					if err == nil && (len(es) != 1 || string(es[0].Value) != want) {
						err = fmt.Errorf("GETMETADATA %q: %+v; want %q", name, es, want)
					}
				}
				if err != nil {
					if rctx.Err() == nil {
						t.Errorf("goroutine %d: %v", g, err)
					}
					stop()
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestAttributionDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	var names []string
	for i := range 4 {
		name := fmt.Sprintf("attr%d-%d", time.Now().UnixNano(), i)
		if err := c.Create(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	attribution(t, c, dvMailbox(t, testserver.Alice, 16), 16, names, nil)
}

func TestAttributionCyrus(t *testing.T) {
	// Waits on a Cyrus of its own (cyAlice).
	t.Parallel()
	_, c := cyAlice(t)
	ctx := dvCtx(t)
	var names []string
	for i := range 4 {
		name := fmt.Sprintf("attr%d", i)
		if err := c.Create(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	for i := range 16 {
		if _, err := c.AppendBytes(ctx, names[0], testserver.SampleMessage(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	attribution(t, c, names[0], 16, names, map[string]uint32{names[0]: 16})
}

// cutShort is the error of an iterator whose loop cancelled its context
// after k values: nil when the next step ended it with the context's
// error, as it must (Fetch, SearchIter and ListIter check the context
// before each value they hand out).
func cutShort(err error, k int) error {
	if !errors.Is(err, context.Canceled) {
		return err
	}
	if k != 1 {
		return fmt.Errorf("cancelled after the first value, ended after %d: %w", k, err)
	}
	return nil
}
