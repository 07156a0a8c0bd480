package commands_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapkit/imapkit/auth"
	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
	"github.com/imapkit/imapkit/session"
	"github.com/imapkit/imapkit/transport"
)

func TestMailboxDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	base := dvMailbox(t, testserver.Alice, 0)
	// Names that need quoting, escaping or modified UTF-7.
	names := []string{base + "/Grüße", base + `/with "quotes" and \ backslash`, base + "/space name", base + "/日本語"}
	for _, n := range names {
		if err := c.Create(ctx, n, nil); err != nil {
			t.Fatalf("Create %q: %v", n, err)
		}
	}
	got, err := c.List(ctx, base+"/*", nil)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, m := range got {
		listed = append(listed, m.Name)
		if m.Delim != "/" || !m.HasAttr(`\HasNoChildren`) {
			t.Errorf("%q: delim %q attrs %v", m.Name, m.Delim, m.Attrs)
		}
	}
	slices.Sort(listed)
	want := slices.Clone(names)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Fatalf("LIST: %q\nwant %q", listed, want)
	}
	if err := c.Rename(ctx, names[0], base+"/Grüße 2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe(ctx, base+"/Grüße 2"); err != nil {
		t.Fatal(err)
	}
	sub, err := c.LSub(ctx, "", base+"/*")
	if err != nil || len(sub) != 1 || sub[0].Name != base+"/Grüße 2" {
		t.Fatalf("LSUB: %v %+v", err, sub)
	}
	ext, err := c.List(ctx, base+"/*", &commands.ListOptions{Subscribed: true, ReturnStatus: commands.StatusMessages | commands.StatusUIDNext})
	if err != nil || len(ext) != 1 || ext[0].Status == nil || ext[0].Status.UIDNext != 1 {
		t.Fatalf("LIST (SUBSCRIBED) RETURN (STATUS): %v %+v", err, ext)
	}
	// RECURSIVEMATCH: the parent of a subscribed mailbox, with CHILDINFO.
	rec, err := c.List(ctx, base, &commands.ListOptions{Subscribed: true, RecursiveMatch: true})
	if err != nil || len(rec) != 1 || rec[0].Name != base || !slices.Contains(rec[0].ChildInfo, "SUBSCRIBED") {
		t.Fatalf("LIST (SUBSCRIBED RECURSIVEMATCH): %v %+v", err, rec)
	}
	if err := c.Unsubscribe(ctx, base+"/Grüße 2"); err != nil {
		t.Fatal(err)
	}
	// Dovecot has no CREATE-SPECIAL-USE: refused before sending.
	if err := c.Create(ctx, base+"/Flagged mail", &commands.CreateOptions{SpecialUse: []string{`\Flagged`}}); !errors.Is(err, commands.ErrUnsupported) {
		t.Fatalf("CREATE (USE (\\Flagged)) without CREATE-SPECIAL-USE: %v", err)
	}
	fl, err := c.List(ctx, "Sent", &commands.ListOptions{ReturnSpecialUse: true, ReturnChildren: true})
	if err != nil || len(fl) != 1 || !fl[0].HasAttr(`\Sent`) || !fl[0].HasAttr(`\HasNoChildren`) {
		t.Fatalf("LIST RETURN (SPECIAL-USE CHILDREN): %v %+v", err, fl)
	}
	special, err := c.List(ctx, "*", &commands.ListOptions{SpecialUse: true})
	if err != nil {
		t.Fatal(err)
	}
	var uses []string
	for _, m := range special {
		uses = append(uses, m.Name)
	}
	slices.Sort(uses)
	if !slices.Equal(uses, []string{"Archive", "Drafts", "Junk", "Sent", "Trash"}) {
		t.Fatalf("LIST (SPECIAL-USE): %q", uses)
	}
	if err := c.Delete(ctx, base+"/Grüße 2"); err != nil {
		t.Fatal(err)
	}
	// A NO is a *session.StatusError.
	err = c.Delete(ctx, base+"/no such")
	var se *session.StatusError
	if !errors.As(err, &se) || !errors.Is(err, session.ErrNo) {
		t.Fatalf("Delete of a missing mailbox: %v", err)
	}
	if _, err := c.Select(ctx, base+"/no such", nil); !errors.Is(err, session.ErrNo) {
		t.Fatalf("Select of a missing mailbox: %v", err)
	}
	if c.Session().State() != session.StateAuth {
		t.Fatalf("state after a failed SELECT: %v", c.Session().State())
	}
}

func TestStatusDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 5)
	all := commands.StatusMessages | commands.StatusRecent | commands.StatusUIDNext | commands.StatusUIDValidity |
		commands.StatusUnseen | commands.StatusSize | commands.StatusHighestModSeq
	st, err := c.Status(ctx, mb, all)
	if err != nil {
		t.Fatal(err)
	}
	var size uint64
	for i := 0; i < 5; i++ {
		size += uint64(len(testserver.SampleMessage(i)))
	}
	if st.Name != mb || st.Messages != 5 || st.UIDNext != 6 || st.Unseen != 5 || st.UIDValidity == 0 ||
		!st.Has(commands.StatusSize) || st.Size != size || !st.Has(commands.StatusHighestModSeq) {
		t.Fatalf("STATUS: %+v (size want %d)", st, size)
	}
}

func TestSelectReadOnlyDovecot(t *testing.T) {
	shared := dvMailbox(t, testserver.Bob, 2)
	bob := dvClient(t, testserver.Bob, nil)
	ctx := dvCtx(t)
	if err := bob.SetACL(ctx, shared, testserver.Alice, "lr"); err != nil {
		t.Fatal(err)
	}
	acl, err := bob.GetACL(ctx, shared)
	if err != nil || !slices.Contains(acl, commands.ACLEntry{Identifier: testserver.Alice, Rights: "lr"}) {
		t.Fatalf("GETACL: %v %+v", err, acl)
	}
	c := dvClient(t, testserver.Alice, nil)
	name := "shared/" + testserver.Bob + "/" + shared
	rights, err := c.MyRights(ctx, name)
	if err != nil || rights != "lr" {
		t.Fatalf("MYRIGHTS: %v %q", err, rights)
	}
	st, err := c.Select(ctx, name, nil)
	var ro *commands.ReadOnlyError
	if !errors.As(err, &ro) || !errors.Is(err, session.ErrReadOnly) {
		t.Fatalf("Select of a read-only mailbox: %v", err)
	}
	if st == nil || !st.ReadOnly || st.Exists != 2 || ro.State != st {
		t.Fatalf("state: %+v", st)
	}
	// Still selected, and the next command runs.
	if c.Session().State() != session.StateSelected {
		t.Fatalf("state %v", c.Session().State())
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after the read-only error: %v", err)
	}
	if st, err := c.Examine(ctx, name); err != nil || !st.ReadOnly {
		t.Fatalf("Examine: %v %+v", err, st)
	}
	if err := bob.DeleteACL(ctx, shared, testserver.Alice); err != nil {
		t.Fatal(err)
	}
	lr, err := bob.ListRights(ctx, shared, testserver.Alice)
	if err != nil || lr == nil {
		t.Fatalf("LISTRIGHTS: %v", err)
	}
}

func TestSearchDovecot(t *testing.T) {
	// Waits on Dovecot, in mailboxes of its own (dvMailbox).
	t.Parallel()
	c := dvClient(t, testserver.Alice, nil)
	mb := dvMailbox(t, testserver.Alice, 20)
	ctx := dvCtx(t) // after the seeding, which waits behind other tests' (seedMu)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	info := testserver.SampleInfo(3)
	res, err := c.Search(ctx, &commands.Criteria{From: []string{info.From}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want codec.SeqSet
	for i := 0; i < 20; i++ {
		if testserver.SampleInfo(i).From == info.From {
			want.AddNum(uint32(i + 1))
		}
	}
	if !res.All.Equal(want) || res.Count == 0 {
		t.Fatalf("SEARCH FROM %s: %v, want %v", info.From, res.All.String(), want.String())
	}
	// Non-ASCII: CHARSET UTF-8 is added by itself.
	var utf8Subj string
	var utf8Want codec.SeqSet
	for i := 0; i < 20; i++ {
		if s := testserver.SampleInfo(i).Subject; strings.ContainsFunc(s, func(r rune) bool { return r > 127 }) && utf8Subj == "" {
			utf8Subj = strings.Fields(s)[0]
		}
	}
	for i := 0; i < 20; i++ {
		if strings.Contains(testserver.SampleInfo(i).Subject, utf8Subj) {
			utf8Want.AddNum(uint32(i + 1))
		}
	}
	res, err = c.Search(ctx, &commands.Criteria{Subject: []string{utf8Subj}}, &commands.SearchOptions{UID: true})
	if err != nil || !res.All.Equal(utf8Want) {
		t.Fatalf("SEARCH SUBJECT %q: %v %v, want %v", utf8Subj, err, res, utf8Want.String())
	}
	// ESEARCH with OR/NOT, flags and dates.
	if _, err := c.Store(ctx, commands.SeqNums(2, 4, 6), commands.AddFlags, []string{`\Seen`, "$Work"}, nil); err != nil {
		t.Fatal(err)
	}
	res, err = c.Search(ctx, &commands.Criteria{
		NotFlags: []string{`\Seen`},
		Not:      []commands.Criteria{{Set: &commands.Set{Nums: commands.SeqRange(15, 0).Nums}}},
		Or:       [][2]commands.Criteria{{{Larger: 1}, {Flags: []string{"$Work"}}}},
		Since:    time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC),
	}, &commands.SearchOptions{Return: &commands.SearchReturn{Min: true, Max: true, Count: true, All: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.FromESearch || res.Min != 1 || res.Max != 14 || res.Count != 11 || res.All.String() != "1,3,5,7:14" {
		t.Fatalf("ESEARCH: %+v %s", res, res.All.String())
	}
	res, err = c.Search(ctx, &commands.Criteria{Flags: []string{"$Work"}}, &commands.SearchOptions{UID: true})
	if err != nil || res.All.String() != "2,4,6" {
		t.Fatalf("KEYWORD: %v %v", err, res.All.String())
	}
	// An empty set matches nothing, alone, under OR and NOT, and SAVE
	// leaves $ empty (IMAP has no empty set: it is sent as NOT ALL).
	empty := commands.UIDs()
	for _, tc := range []struct {
		name string
		cr   commands.Criteria
		want string
	}{
		{"alone", commands.Criteria{Set: &empty}, ""},
		{"or", commands.Criteria{Or: [][2]commands.Criteria{{{Set: &empty}, {Flags: []string{"$Work"}}}}}, "2,4,6"},
		{"not", commands.Criteria{Flags: []string{"$Work"}, Not: []commands.Criteria{{Set: &empty}}}, "2,4,6"},
	} {
		res, err := c.Search(ctx, &tc.cr, &commands.SearchOptions{UID: true})
		if err != nil {
			t.Fatalf("SEARCH with an empty set, %s: %v", tc.name, err)
		}
		if res.All.String() != tc.want {
			t.Fatalf("SEARCH with an empty set, %s: %q, want %q", tc.name, res.All.String(), tc.want)
		}
	}
	save := &commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Save: true}}
	if _, err := c.Search(ctx, &commands.Criteria{Flags: []string{"$Work"}}, save); err != nil {
		t.Fatal(err)
	}
	if ms, err := c.FetchAll(ctx, commands.SavedUIDs(), &commands.FetchItems{Flags: true}); err != nil || len(ms) != 3 {
		t.Fatalf("FETCH $ after SAVE of $Work: %v, %d messages", err, len(ms))
	}
	if _, err := c.Search(ctx, &commands.Criteria{Set: &empty}, save); err != nil {
		t.Fatal(err)
	}
	if ms, err := c.FetchAll(ctx, commands.SavedUIDs(), &commands.FetchItems{Flags: true}); err != nil || len(ms) != 0 {
		t.Fatalf("FETCH $ after SAVE of an empty set: %v, %d messages", err, len(ms))
	}
	// SORT and THREAD.
	nums, err := c.Sort(ctx, []commands.SortKey{{Key: "SIZE", Reverse: true}}, &commands.Criteria{Set: &commands.Set{Nums: commands.SeqRange(1, 5).Nums}}, nil)
	if err != nil || len(nums) != 5 {
		t.Fatalf("SORT: %v %v", err, nums)
	}
	for i := 1; i < len(nums); i++ {
		if len(testserver.SampleMessage(int(nums[i-1])-1)) < len(testserver.SampleMessage(int(nums[i])-1)) {
			t.Fatalf("SORT REVERSE SIZE: %v not descending", nums)
		}
	}
	threads, err := c.Thread(ctx, "REFERENCES", nil, &commands.SearchOptions{UID: true})
	if err != nil || len(threads) == 0 || len(threads) >= 20 {
		t.Fatalf("THREAD: %v %d threads", err, len(threads))
	}
}

func TestStoreCopyMoveExpungeDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 6)
	dst := dvMailbox(t, testserver.Alice, 0)
	if _, err := c.Enable(ctx, "CONDSTORE"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Select(ctx, mb, &commands.SelectOptions{CondStore: true})
	if err != nil || st.HighestModSeq == 0 {
		t.Fatalf("SELECT (CONDSTORE): %v %+v", err, st)
	}
	res, err := c.Store(ctx, commands.UIDs(1, 2), commands.AddFlags, []string{`\Flagged`}, nil)
	if err != nil || len(res.Messages) != 2 || !slices.Contains(res.Messages[0].Flags, `\Flagged`) {
		t.Fatalf("STORE: %v %+v", err, res)
	}
	ms, err := c.FetchAll(ctx, commands.UIDs(1), &commands.FetchItems{ModSeq: true})
	if err != nil || ms[0].ModSeq == 0 {
		t.Fatalf("FETCH MODSEQ: %v", err)
	}
	// UNCHANGEDSINCE older than message 1's modseq: 1 comes back MODIFIED.
	res, err = c.Store(ctx, commands.UIDs(1, 3), commands.ReplaceFlags, []string{`\Answered`}, &commands.StoreOptions{UnchangedSince: ms[0].ModSeq - 1, Silent: true})
	if err != nil || res.Modified.Nums.String() != "1" || !res.Modified.UID {
		t.Fatalf("STORE UNCHANGEDSINCE: %v modified %v", err, res.Modified)
	}
	cp, err := c.Copy(ctx, commands.SeqNums(1, 2), dst)
	if err != nil || cp == nil || cp.Src.String() != "1:2" || cp.Dst.String() != "1:2" {
		t.Fatalf("COPY: %v %+v", err, cp)
	}
	mv, err := c.Move(ctx, commands.UIDs(5, 6), dst)
	if err != nil || mv == nil || mv.Src.String() != "5:6" || mv.Dst.String() != "3:4" {
		t.Fatalf("MOVE: %v %+v", err, mv)
	}
	if _, err := c.Store(ctx, commands.UIDs(3, 4), commands.AddFlags, []string{`\Deleted`}, &commands.StoreOptions{Silent: true}); err != nil {
		t.Fatal(err)
	}
	uid4 := commands.UIDs(4)
	ex, err := c.Expunge(ctx, &uid4)
	if err != nil || !slices.Equal(ex.SeqNums, []uint32{4}) {
		t.Fatalf("UID EXPUNGE 4: %v %+v", err, ex)
	}
	ex, err = c.Expunge(ctx, nil)
	if err != nil || !slices.Equal(ex.SeqNums, []uint32{3}) {
		t.Fatalf("EXPUNGE: %v %+v", err, ex)
	}
	dstSt, err := c.Status(ctx, dst, commands.StatusMessages)
	if err != nil || dstSt.Messages != 4 {
		t.Fatalf("destination: %v %+v", err, dstSt)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil || c.Session().State() != session.StateAuth {
		t.Fatalf("CLOSE: %v %v", err, c.Session().State())
	}
}

func TestAppendDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 0)
	msg := testserver.SampleMessage(4)
	date := time.Date(2021, 3, 4, 5, 6, 7, 0, time.FixedZone("", -7*3600))
	// A reader that is not a bytes.Reader: streamed as it is.
	res, err := c.Append(ctx, mb, io.MultiReader(bytes.NewReader(msg[:100]), bytes.NewReader(msg[100:])), int64(len(msg)),
		&commands.AppendOptions{Flags: []string{`\Seen`, "$Label1"}, Date: date})
	if err != nil || res.UID != 1 || res.UIDValidity == 0 {
		t.Fatalf("APPEND: %v %+v", err, res)
	}
	if _, err := c.Examine(ctx, mb); err != nil {
		t.Fatal(err)
	}
	fetched := 0
	for m, err := range c.Fetch(ctx, commands.UIDs(1), &commands.FetchItems{Flags: true, InternalDate: true, Sections: []commands.FetchSection{{}}}) {
		if err != nil {
			t.Fatal(err)
		}
		fetched++
		if !m.InternalDate.Equal(date) || !slices.Contains(m.Flags, "$Label1") || !slices.Contains(m.Flags, `\Seen`) {
			t.Fatalf("appended: %v %v", m.InternalDate, m.Flags)
		}
		s, err := m.NextSection()
		if err != nil {
			t.Fatalf("appended: its body: %v", err)
		}
		b, err := io.ReadAll(s)
		if err != nil || !bytes.Equal(b, msg) {
			t.Fatalf("appended body differs (%v)", err)
		}
	}
	if fetched != 1 {
		t.Fatalf("FETCH of the appended UID 1 yielded %d messages; want 1", fetched)
	}
	// imaplib's CRLF normalisation, streamed from a ReadSeeker; the
	// result equals NormalizeCRLF's. A big message crosses buffers.
	bare := []byte("Subject: bare\nX: cr\r\rY: crlf\r\n\n" + strings.Repeat("line\n", 3000) + "end\r")
	want := commands.NormalizeCRLF(bare)
	res, err = c.Append(ctx, mb, bytes.NewReader(bare), int64(len(bare)), &commands.AppendOptions{NormalizeCRLF: true})
	if err != nil || res.UID != 2 {
		t.Fatalf("APPEND NormalizeCRLF: %v %+v", err, res)
	}
	if _, err := c.Append(ctx, mb, io.MultiReader(bytes.NewReader(bare)), int64(len(bare)), &commands.AppendOptions{NormalizeCRLF: true}); err == nil {
		t.Fatal("NormalizeCRLF with a plain io.Reader: no error")
	}
	// BINARY: a literal8 with 8-bit content.
	bin := []byte("Subject: bin\r\nContent-Transfer-Encoding: binary\r\n\r\n\xff\xfe\x01 raw\r\n")
	res, err = c.AppendBytes(ctx, mb, bin, &commands.AppendOptions{Binary: true})
	if err != nil || res.UID != 3 {
		t.Fatalf("APPEND literal8: %v %+v", err, res)
	}
	// Dovecot stores the binary body in base64 (RFC 3516 allows it);
	// BINARY[1] gives the content back.
	var uids []uint32
	for m, err := range c.Fetch(ctx, commands.UIDRange(2, 3), &commands.FetchItems{Sections: []commands.FetchSection{{}, {Binary: true, Part: []int{1}}}}) {
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, m.UID)
		s, err := m.NextSection()
		if err == nil && m.UID == 3 {
			s, err = m.NextSection()
		}
		if err != nil {
			t.Fatalf("UID %d: its section: %v", m.UID, err)
		}
		got, err := io.ReadAll(s)
		if w := map[uint32][]byte{2: want, 3: []byte("\xff\xfe\x01 raw\r\n")}[m.UID]; err != nil || !bytes.Equal(got, w) {
			t.Fatalf("UID %d: %q... (%v)\nwant %q...", m.UID, got[:min(60, len(got))], err, w[:min(60, len(w))])
		}
	}
	if !slices.Equal(uids, []uint32{2, 3}) {
		t.Fatalf("FETCH of UIDs 2:3 yielded UIDs %v; want [2 3]", uids)
	}
	// A short reader whose length is known is refused before anything
	// is sent (ErrSizeMismatch); one whose length is not aborts the
	// session rather than desynchronise it.
	_, err = c.Append(ctx, mb, bytes.NewReader(msg[:10]), 20, nil)
	if !errors.Is(err, commands.ErrSizeMismatch) || !errors.Is(err, io.ErrUnexpectedEOF) || c.Session().Err() != nil {
		t.Fatalf("short bytes.Reader: %v, session %v", err, c.Session().Err())
	}
	_, err = c.Append(ctx, mb, io.MultiReader(bytes.NewReader(msg[:10])), 20, nil)
	if err == nil || !errors.Is(c.Session().Err(), session.ErrAborted) {
		t.Fatalf("short reader: %v, session %v", err, c.Session().Err())
	}
}

func TestIdleDovecot(t *testing.T) {
	// Parallel: it waits on another client's appends and IDLE restarts; its own mailbox, selected;
	// it looks at nothing process-wide.
	t.Parallel()
	pluses := &plusLines{c: make(chan struct{}, 64)}
	c := dvClient(t, testserver.Alice, &session.Options{Trace: pluses})
	other := dvClient(t, testserver.Alice, nil)
	mb := dvMailbox(t, testserver.Alice, 1)
	ctx := dvCtx(t) // after the seeding, which waits behind other tests' (seedMu)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	// Another client appends twice; IDLE sees EXISTS 2 then EXISTS 3, in
	// order; the restart interval is short so that IDLE is re-issued.
	// The appends wait for the IDLE's "+", and the second for EXISTS 2
	// and then an IDLE re-issued (its "+"). They were 300 ms and 1.8 s
	// in: a loaded machine could hold the first back until the second
	// was near, and Dovecot then said EXISTS 3 alone.
	seen2 := make(chan struct{})
	appended := make(chan error, 1)
	actx, stopAppends := context.WithCancel(ctx) // once Idle has returned
	defer stopAppends()
	go func() {
		ctx := actx
		appended <- func() error {
			if err := pluses.next(ctx); err != nil {
				return err
			}
			if _, err := other.AppendBytes(ctx, mb, testserver.SampleMessage(1), nil); err != nil {
				return err
			}
			select {
			case <-seen2:
			case <-ctx.Done():
				return ctx.Err()
			}
			pluses.drain()
			if err := pluses.next(ctx); err != nil {
				return err
			}
			_, err := other.AppendBytes(ctx, mb, testserver.SampleMessage(2), nil)
			return err
		}()
	}()
	var got []uint32
	err := c.Idle(ctx, &commands.IdleOptions{Restart: 700 * time.Millisecond}, func(r codec.Response) bool {
		if e, ok := r.(*codec.Exists); ok {
			got = append(got, e.Count)
			if e.Count == 2 {
				close(seen2)
			}
		}
		return len(got) < 2 || got[len(got)-1] < 3
	})
	stopAppends()
	aerr := <-appended
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []uint32{2, 3}) {
		t.Fatalf("EXISTS events %v (the other client's appends: %v)", got, aerr)
	}
	if aerr != nil {
		t.Fatalf("the other client's appends: %v", aerr)
	}
	// ctx cancelled: DONE, and Idle returns the context's error; the
	// session goes on.
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := c.Idle(cctx, nil, func(codec.Response) bool { return true }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Idle with a context that ends: %v", err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after IDLE: %v", err)
	}
}

// plusLines is a session Trace that signals on c each "+" the server
// sends (an IDLE under way).
type plusLines struct{ c chan struct{} }

func (p *plusLines) Write(b []byte) (int, error) {
	if strings.HasPrefix(string(b), "S: + ") {
		select {
		case p.c <- struct{}{}:
		default:
		}
	}
	return len(b), nil
}

// next waits for the next "+" (one that came before and was not taken
// counts).
func (p *plusLines) next(ctx context.Context) error {
	select {
	case <-p.c:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("no IDLE under way: %w", ctx.Err())
	}
}

// drain forgets the "+" lines that came so far.
func (p *plusLines) drain() {
	for {
		select {
		case <-p.c:
		default:
			return
		}
	}
}

// TestIdleYieldsDovecot: with the defaults (IDLE restarted every 29
// minutes), commands started on other goroutines during Idle, or in its
// onEvent, end the IDLE in flight, run, and Idle goes on with a new IDLE
// that still sees what happens in the mailbox.
func TestIdleYieldsDovecot(t *testing.T) {
	// Parallel: it waits on Dovecot's IDLE notifications; its own mailbox, selected;
	// it looks at nothing process-wide.
	t.Parallel()
	idleYields(t, dvClient(t, testserver.Alice, nil), dvClient(t, testserver.Alice, nil), dvMailbox(t, testserver.Alice, 2))
}

// idleYields runs TestIdleYieldsDovecot's checks with c; other is another
// session of the same user, and mb a mailbox of 2 messages.
func idleYields(t *testing.T, c, other *commands.Client, mb string) {
	ctx := dvCtx(t)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	events := make(chan uint32, 64)
	fetched := make(chan error, 1)
	idleErr := make(chan error, 1)
	go func() {
		idleErr <- c.Idle(ctx, nil, func(r codec.Response) bool {
			e, ok := r.(*codec.Exists)
			if !ok {
				return true
			}
			if e.Count == 4 {
				// The common use: fetch what came, from onEvent.
				ms, err := c.FetchAll(ctx, commands.SeqNums(4), &commands.FetchItems{Envelope: true})
				if err == nil && (len(ms) != 1 || ms[0].Envelope == nil || string(ms[0].Envelope.MessageID) != testserver.SampleInfo(4).MessageID) {
					err = fmt.Errorf("FETCH of the new message: %+v", ms)
				}
				fetched <- err
			}
			events <- e.Count
			return e.Count < 5
		})
	}()
	// exists waits for the event of the message another client adds.
	exists := func(n uint32) {
		t.Helper()
		if _, err := other.AppendBytes(ctx, mb, testserver.SampleMessage(int(n)), nil); err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case got := <-events:
				if got == n {
					return
				}
			case err := <-idleErr:
				// Idle ends right after handing over the event that
				// stops it: both may be ready when this select runs
				// (under load), and it picks either. The events sent
				// before Idle returned are in the buffer.
				for len(events) > 0 {
					if <-events == n {
						idleErr <- err // for the check at the end
						return
					}
				}
				t.Fatalf("Idle returned %v before EXISTS %d", err, n)
			case <-ctx.Done():
				t.Fatalf("no EXISTS %d during IDLE", n)
			}
		}
	}
	exists(3) // IDLE is in flight
	// Three goroutines' commands, which would wait 29 minutes for the IDLE
	// to end on its own.
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	errs := make(chan error, 3)
	go func() { errs <- c.Noop(cctx) }()
	go func() {
		r, err := c.Search(cctx, &commands.Criteria{}, nil)
		if err == nil && r.All.String() != "1:3" {
			err = fmt.Errorf("SEARCH ALL found %v", r.All)
		}
		errs <- err
	}()
	go func() {
		_, err := c.Store(cctx, commands.UIDs(1), commands.AddFlags, []string{`\Flagged`}, &commands.StoreOptions{Silent: true})
		if err == nil {
			var ms []*commands.Message
			ms, err = c.FetchAll(cctx, commands.UIDs(1), &commands.FetchItems{Flags: true})
			if err == nil && (len(ms) != 1 || !slices.Contains(ms[0].Flags, `\Flagged`)) {
				err = fmt.Errorf("flags after STORE: %+v", ms)
			}
		}
		errs <- err
	}()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("a command during Idle: %v", err)
		}
	}
	exists(4) // IDLE was sent again
	if err := <-fetched; err != nil {
		t.Fatalf("a command in onEvent: %v", err)
	}
	exists(5) // and again; the event ends Idle
	if err := <-idleErr; err != nil {
		t.Fatalf("Idle: %v", err)
	}
}

func TestMiscDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	ns, err := c.Namespace(ctx)
	if err != nil || len(ns.Personal) != 1 || ns.Personal[0].Delim != "/" || len(ns.Other) != 1 {
		t.Fatalf("NAMESPACE: %v %+v", err, ns)
	}
	id, err := c.ID(ctx, map[string]string{"name": "imapkit"})
	if err != nil || id["name"] != "Dovecot" {
		t.Fatalf("ID: %v %v", err, id)
	}
	caps, err := c.Capability(ctx)
	if err != nil || !slices.Contains(caps, "IMAP4REV1") {
		t.Fatalf("CAPABILITY: %v %v", err, caps)
	}
	en, err := c.Enable(ctx, "CONDSTORE")
	if err != nil || !slices.Equal(en, []string{"CONDSTORE"}) {
		t.Fatalf("ENABLE: %v %v", err, en)
	}
	tiny := dvClient(t, testserver.TinyUser, nil) // the user with a quota
	roots, qs, err := tiny.GetQuotaRoot(ctx, "INBOX")
	if err != nil || len(roots) != 1 || len(qs) != 1 || qs[0].Root != roots[0] {
		t.Fatalf("GETQUOTAROOT: %v %v %v", err, roots, qs)
	}
	q, err := tiny.GetQuota(ctx, roots[0])
	if err != nil || q.Root != roots[0] || !slices.ContainsFunc(q.Resources, func(r commands.QuotaResource) bool {
		return r.Name == "STORAGE" && r.Limit == testserver.TinyQuotaKiB
	}) {
		t.Fatalf("GETQUOTA: %v %+v", err, q)
	}
	// METADATA on a mailbox of its own.
	mb := dvMailbox(t, testserver.Alice, 0)
	if err := c.SetMetadata(ctx, mb, []commands.MetadataEntry{{Name: "/private/comment", Value: []byte("hello\r\nworld")}}); err != nil {
		t.Fatal(err)
	}
	md, _, err := c.GetMetadata(ctx, mb, []string{"/private/comment"}, nil)
	if err != nil || len(md) != 1 || string(md[0].Value) != "hello\r\nworld" {
		t.Fatalf("GETMETADATA: %v %+v", err, md)
	}
	if err := c.SetMetadata(ctx, mb, []commands.MetadataEntry{{Name: "/private/comment"}}); err != nil {
		t.Fatal(err)
	}
	md, _, err = c.GetMetadata(ctx, mb, []string{"/private/comment"}, nil)
	if err != nil || len(md) != 1 || md[0].Value != nil {
		t.Fatalf("GETMETADATA after removal: %v %+v", err, md)
	}
	// Xatom: any command, every response typed.
	r, err := c.Xatom(ctx, "XLIST", `"" "%"`)
	if err != nil && !errors.Is(err, session.ErrBad) {
		t.Fatalf("XLIST: %v", err)
	}
	_ = r
	r, err = c.Xatom(ctx, "LIST", `"" INBOX`)
	if err != nil || len(r.Data) != 1 {
		t.Fatalf("Xatom LIST: %v %+v", err, r)
	}
	if _, ok := r.Data[0].(*codec.List); !ok {
		t.Fatalf("Xatom LIST: %T", r.Data[0])
	}
	// Login through a Client made with New: refused, nothing sent.
	if err := commands.New(c.Session()).Login(ctx, "x", "y"); !errors.Is(err, commands.ErrNoAuth) {
		t.Fatalf("Login via New: %v", err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatalf("LOGOUT: %v", err)
	}
}

// TestConcurrentDovecot runs fetches from several goroutines on one
// Client: they are pipelined by the session, and each gets its own
// messages.
func TestConcurrentDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 16)
	if _, err := c.Examine(ctx, mb); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := uint32(1); i <= 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for m, err := range c.Fetch(ctx, commands.UIDs(i), &commands.FetchItems{Sections: []commands.FetchSection{commands.HeaderSection}}) {
				if err != nil {
					errs <- err
					return
				}
				n++
				s, err := m.NextSection()
				if err != nil {
					errs <- err
					return
				}
				h, _ := io.ReadAll(s)
				if m.UID != i || !bytes.Contains(h, []byte(testserver.SampleInfo(int(i)-1).MessageID)) {
					errs <- errors.New("wrong message")
					return
				}
			}
			if n != 1 {
				errs <- errors.New("not one message")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestConnectionDovecot: AUTHENTICATE with a SASL mechanism, STARTTLS and
// COMPRESS through the Client, then BINARY and a fetch over the
// compressed TLS connection.
func TestConnectionDovecot(t *testing.T) {
	ctx := dvCtx(t)
	c := dvStartTLS(t)
	if !c.Auth().TLS() {
		t.Fatal("auth does not know the connection is TLS")
	}
	if err := c.Authenticate(ctx, auth.NewSCRAMSHA256("", testserver.Alice, testserver.Password)); err != nil {
		t.Fatalf("AUTHENTICATE: %v", err)
	}
	if err := c.Compress(ctx, nil); err != nil {
		t.Fatalf("COMPRESS: %v", err)
	}
	mb := dvMailbox(t, testserver.Alice, 1)
	if _, err := c.Examine(ctx, mb); err != nil {
		t.Fatal(err)
	}
	msg := testserver.SampleMessage(0) // multipart: a text part and a base64 PDF
	fetched := 0
	for m, err := range c.Fetch(ctx, commands.SeqNums(1), &commands.FetchItems{BodyStructure: true,
		Sections: []commands.FetchSection{{}, {Binary: true, Part: []int{2}}}}) {
		if err != nil {
			t.Fatal(err)
		}
		fetched++
		s, err := m.NextSection()
		if err != nil {
			t.Fatalf("BODY[]: %v", err)
		}
		whole, err := io.ReadAll(s)
		if err != nil || !bytes.Equal(whole, msg) {
			t.Fatalf("BODY[] differs over TLS+COMPRESS (%v)", err)
		}
		s, err = m.NextSection()
		if err != nil || s.Kind != codec.SectionBinary {
			t.Fatalf("BINARY[2]: %v %+v", err, s)
		}
		pdf, err := io.ReadAll(s)
		if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("BINARY[2] is not the decoded PDF: %q (%v)", pdf[:min(len(pdf), 20)], err)
		}
	}
	if fetched != 1 {
		t.Fatalf("FETCH 1 over TLS+COMPRESS yielded %d messages; want 1", fetched)
	}
}

func TestMultiAppendESortDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	mb := dvMailbox(t, testserver.Alice, 0)
	var msgs []commands.AppendMessage
	for i := 0; i < 3; i++ {
		m := testserver.SampleMessage(i)
		msgs = append(msgs, commands.AppendMessage{R: bytes.NewReader(m), Size: int64(len(m)),
			Options: &commands.AppendOptions{Flags: []string{"$N" + string(rune('0'+i))}}})
	}
	res, err := c.AppendMany(ctx, mb, msgs)
	if err != nil || res.UIDs.String() != "1:3" {
		t.Fatalf("MULTIAPPEND: %v %+v", err, res)
	}
	if _, err := c.Examine(ctx, mb); err != nil {
		t.Fatal(err)
	}
	es, err := c.ESort(ctx, []commands.SortKey{{Key: "SIZE"}}, nil, &commands.SearchOptions{UID: true, Return: &commands.SearchReturn{Min: true, Max: true, Count: true}})
	if err != nil {
		t.Fatal(err)
	}
	sorted, err := c.Sort(ctx, []commands.SortKey{{Key: "SIZE"}}, nil, &commands.SearchOptions{UID: true})
	if err != nil || len(sorted) != 3 {
		t.Fatal(err)
	}
	if es.Count != 3 || es.Min != sorted[0] || es.Max != sorted[2] {
		t.Fatalf("ESORT %+v; SORT %v", es, sorted)
	}
}

func TestCatenateDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	src := dvMailbox(t, testserver.Alice, 2)
	dst := dvMailbox(t, testserver.Alice, 0)
	st, err := c.Status(ctx, src, commands.StatusUIDValidity)
	if err != nil {
		t.Fatal(err)
	}
	hdr := "From: alice@example.org\r\nSubject: forwarded text\r\n\r\n"
	url := "/" + src + ";UIDVALIDITY=" + strconv.FormatUint(uint64(st.UIDValidity), 10) + "/;UID=2/;SECTION=TEXT"
	res, err := c.AppendCatenate(ctx, dst, []commands.CatenatePart{
		{R: strings.NewReader(hdr), Size: int64(len(hdr))},
		{URL: url},
	}, nil)
	if err != nil || res.UID != 1 {
		t.Fatalf("CATENATE: %v %+v", err, res)
	}
	if _, err := c.Examine(ctx, dst); err != nil {
		t.Fatal(err)
	}
	msg := testserver.SampleMessage(1)
	text := msg[bytes.Index(msg, []byte("\r\n\r\n"))+4:]
	fetched := 0
	for m, err := range c.Fetch(ctx, commands.UIDs(1), &commands.FetchItems{Sections: []commands.FetchSection{{}}}) {
		if err != nil {
			t.Fatal(err)
		}
		fetched++
		s, err := m.NextSection()
		if err != nil {
			t.Fatalf("catenated message: its body: %v", err)
		}
		got, err := io.ReadAll(s)
		if want := append([]byte(hdr), text...); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("catenated message (%v):\n%q\nwant\n%q", err, got[:min(200, len(got))], want[:min(200, len(want))])
		}
	}
	if fetched != 1 {
		t.Fatalf("FETCH of the catenated UID 1 yielded %d messages; want 1", fetched)
	}
}

// TestConcurrentStatusDovecot runs STATUS for several mailboxes (some
// non-ASCII) from as many goroutines: pipelined, each gets its own.
func TestConcurrentStatusDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	base := dvMailbox(t, testserver.Alice, 0)
	names := []string{"a", "Grüße", "日本", "b c", "d\"e"}
	for i, n := range names {
		name := base + "/" + n
		names[i] = name
		if err := c.Create(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		for j := 0; j <= i; j++ {
			if _, err := c.AppendBytes(ctx, name, testserver.SampleMessage(j), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	var wg sync.WaitGroup
	for round := 0; round < 3; round++ {
		for i, n := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := c.Status(ctx, n, commands.StatusMessages)
				if err != nil || st.Name != n || st.Messages != uint32(i+1) {
					t.Errorf("STATUS %q: %v %+v", n, err, st)
				}
			}()
		}
	}
	wg.Wait()
}

// TestExistsDovecot: Client.Exists follows the selected mailbox: unknown
// before SELECT, the count after it, one more after another session
// appends and a NOOP lets the server say so, one less after an EXPUNGE.
func TestExistsDovecot(t *testing.T) {
	mb := dvMailbox(t, testserver.Alice, 3)
	c := dvClient(t, testserver.Alice, nil)
	other := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	if n, known := c.Exists(); known {
		t.Fatalf("Exists before SELECT = %d, known", n)
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	if n, known := c.Exists(); !known || n != 3 {
		t.Fatalf("Exists after SELECT = %d, %v; want 3, true", n, known)
	}
	if _, err := other.AppendBytes(ctx, mb, testserver.SampleMessage(7), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	if n, known := c.Exists(); !known || n != 4 {
		t.Fatalf("Exists after another session's APPEND and NOOP = %d, %v; want 4, true", n, known)
	}
	if _, err := c.Store(ctx, commands.SeqNums(1), commands.AddFlags, []string{`\Deleted`}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expunge(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if n, known := c.Exists(); !known || n != 3 {
		t.Fatalf("Exists after EXPUNGE = %d, %v; want 3, true", n, known)
	}
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	if n, known := c.Exists(); known {
		t.Fatalf("Exists after UNSELECT = %d, known", n)
	}
}

// TestMixedConcurrencyDovecot uses one Client from seven goroutines at
// once, each until it has done mixedOps operations, with the defaults:
// fetches of every message (owned, and borrowed with a NOOP run inside
// the loop), fetches cut short (by
// break, or by cancelling their context), SEARCH, silent flag changes,
// SELECT of the same mailbox again and again (a command that runs alone),
// STATUS of another mailbox, and Idle, which every other command
// interrupts. Every operation must succeed with the right answer, Idle
// must end when its context does, and nothing may hang.
func TestMixedConcurrencyDovecot(t *testing.T) {
	const n = 16
	mixedConcurrency(t, dvClient(t, testserver.Alice, nil), dvMailbox(t, testserver.Alice, n), n, 0)
}

// TestCloseUnderLoadDovecot runs the operations of the mixed concurrency
// test and closes the session under them, at a different moment in each
// of five rounds (after 90, 220, 350, 480 and 610 operations: on a quiet
// machine 50 to 330 ms in): every operation returns (with an error once
// the session is closed), Idle too, none hangs (opLoops.Wait), and under
// -race nothing is read while the reader goroutine still writes it.
func TestCloseUnderLoadDovecot(t *testing.T) {
	const n = 16
	mb := dvMailbox(t, testserver.Alice, n)
	for round := range 5 {
		mixedConcurrency(t, dvClient(t, testserver.Alice, nil), mb, n, int64(90+round*130))
	}
}

// dvStartTLS opens a Client on the plain port, not logged in, and
// upgrades it with STARTTLS.
func dvStartTLS(t *testing.T) *commands.Client {
	t.Helper()
	c := dvPlain(t)
	if err := c.StartTLS(dvCtx(t), nil); err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	return c
}

// dvCompressed opens a Client over STARTTLS, logged in as alice, with
// COMPRESS=DEFLATE on.
func dvCompressed(t *testing.T) *commands.Client {
	t.Helper()
	ctx := dvCtx(t)
	c := dvStartTLS(t)
	if err := c.Login(ctx, testserver.Alice, testserver.Password); err != nil {
		t.Fatalf("LOGIN: %v", err)
	}
	if err := c.Compress(ctx, nil); err != nil {
		t.Fatalf("COMPRESS: %v", err)
	}
	return c
}

// dvPlain opens a Client on the plain port, not logged in, that trusts
// the server's certificate for STARTTLS.
func dvPlain(t *testing.T) *commands.Client {
	t.Helper()
	srv := dvServer(t)
	ctx := dvCtx(t)
	conn, err := transport.Dial(ctx, srv.PlainAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := commands.Open(ctx, conn, &auth.Options{TLSConfig: srv.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Session().Close() })
	return c
}

// TestMixedConcurrencyCompressedDovecot is TestMixedConcurrencyDovecot
// over STARTTLS and COMPRESS=DEFLATE, where the reads take other paths (a
// pulled command's caller lets the reader goroutine do every read under
// COMPRESS, and the deflater comes and goes with IDLE).
func TestMixedConcurrencyCompressedDovecot(t *testing.T) {
	const n = 16
	c := dvCompressed(t)
	mixedConcurrency(t, c, dvMailbox(t, testserver.Alice, n), n, 0)
}

// mixedOps is how many operations each of mixedConcurrency's loops does
// at least: the slowest loop (Fetch Borrow) does a quarter of what the
// others do, and with 75 the loops do about what a quiet 2-core machine
// did in the second they ran for before (1,858 operations in all).
const mixedOps = 75

// mixedConcurrency is TestMixedConcurrencyDovecot's body, for any server:
// mb holds n messages, UIDs 1 to n; INBOX exists. The loops run until
// each has done mixedOps operations. With closeAfterOps > 0 the session
// is closed instead once the loops together have done that many
// operations, and the operations' errors after it are expected.
func mixedConcurrency(t *testing.T, c *commands.Client, mb string, n int, closeAfterOps int64) {
	ctx := dvCtx(t)
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	minOps := int64(mixedOps)
	if closeAfterOps > 0 {
		minOps = 0 // the loops end with the session
	}
	// The loops' context has no deadline: how long they take depends on
	// the machine's load; opLoops.Wait ends the test on a hang.
	lctx, lcancel := context.WithCancel(context.Background())
	t.Cleanup(lcancel)
	loops := newOpLoops(lctx, minOps)
	rctx, stop := loops.Ctx, loops.Stop
	defer stop()
	var closeOnce sync.Once
	fail := func(what string, err error) {
		if closeAfterOps > 0 && c.Session().Err() != nil {
			stop()
			return
		}
		if rctx.Err() == nil {
			t.Errorf("%s: %v", what, err)
		}
		stop()
	}
	loop := func(what string, op func() error) {
		loops.Go(what, func(*atomic.Int64) error {
			if closeAfterOps > 0 && loops.Ops() >= closeAfterOps {
				closeOnce.Do(func() { c.Session().Close() })
			}
			return op()
		}, fail)
	}
	fetchAll := func(borrow bool) func() error {
		return func() error {
			var uids []uint32
			for m, err := range c.Fetch(lctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Flags: true, Envelope: true, Borrow: borrow}) {
				if err != nil {
					return err
				}
				if m.Envelope == nil || len(m.Envelope.Subject) == 0 {
					return fmt.Errorf("message UID %d without its envelope", m.UID)
				}
				uids = append(uids, m.UID)
				if borrow && len(uids)%5 == 0 {
					if err := c.Noop(lctx); err != nil {
						return fmt.Errorf("NOOP inside the loop: %w", err)
					}
				}
			}
			if len(uids) != n || uids[0] != 1 || uids[n-1] != uint32(n) {
				return fmt.Errorf("fetched UIDs %v; want 1 to %d", uids, n)
			}
			return nil
		}
	}
	loop("Fetch", fetchAll(false))
	loop("Fetch Borrow", fetchAll(true))
	loop("Fetch cut short", func() error {
		// Every other time the loop breaks after 2 messages, else its
		// context is cancelled after 3: the rest of the answer is read
		// and thrown away, and the session goes on.
		fctx, cancel := context.WithCancel(lctx)
		defer cancel()
		brk := loops.Ops()%2 == 0
		k := 0
		for _, err := range c.Fetch(fctx, commands.UIDRange(1, 0), &commands.FetchItems{UID: true, Envelope: true}) {
			if err != nil {
				if !brk && k == 3 && errors.Is(err, context.Canceled) {
					return nil
				}
				return err
			}
			k++
			if brk && k == 2 {
				break
			}
			if !brk && k == 3 {
				cancel()
			}
		}
		if !brk {
			return fmt.Errorf("a cancelled Fetch went on to its end (%d messages)", k)
		}
		return nil
	})
	loop("Search", func() error {
		r, err := c.Search(lctx, &commands.Criteria{}, nil)
		if err != nil {
			return err
		}
		if got, _ := r.All.Len(); got != uint64(n) {
			return fmt.Errorf("SEARCH ALL found %d messages; want %d", got, n)
		}
		return nil
	})
	var flip atomic.Bool
	loop("Store", func() error {
		op := commands.AddFlags
		if flip.Load() {
			op = commands.RemoveFlags
		}
		flip.Store(!flip.Load())
		_, err := c.Store(lctx, commands.UIDs(3), op, []string{`\Flagged`}, &commands.StoreOptions{Silent: true})
		return err
	})
	loop("Select", func() error {
		st, err := c.Select(lctx, mb, nil)
		if err != nil {
			return err
		}
		if st.Exists != uint32(n) {
			return fmt.Errorf("SELECT: %d messages; want %d", st.Exists, n)
		}
		return nil
	})
	loop("Status", func() error {
		_, err := c.Status(lctx, "INBOX", commands.StatusMessages)
		return err
	})
	idleDone := make(chan error, 1)
	go func() { idleDone <- c.Idle(rctx, nil, func(codec.Response) bool { return true }) }()
	loops.Wait(t, opQuiet)
	ctx = dvCtx(t) // for the checks, from the loops' end
	select {
	case err := <-idleDone:
		if closeAfterOps == 0 && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			t.Errorf("Idle: %v; want its context's end", err)
		}
	case <-ctx.Done():
		t.Fatal("Idle did not end")
	}
	if closeAfterOps > 0 {
		if c.Session().Err() == nil {
			t.Fatal("the session was not closed")
		}
		return
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("NOOP after: %v", err)
	}
	t.Logf("%d operations (%s)", loops.Ops(), loops.Counts())
}
