package commands_test

import (
	"testing"
	"time"

	"github.com/imapkit/imapkit/commands"
	"github.com/imapkit/imapkit/internal/testserver"
)

// TestSaveDateSearchDovecot: the SAVEDATE search keys (RFC 8514) against
// Dovecot: a message appended today with an old internal date is saved
// today, not before; SAVEDATESUPPORTED finds it; SINCE (the internal date)
// does not.
func TestSaveDateSearchDovecot(t *testing.T) {
	c := dvClient(t, testserver.Alice, nil)
	ctx := dvCtx(t)
	if !c.Session().HasCap("SAVEDATE") {
		t.Fatal("Dovecot does not offer SAVEDATE")
	}
	mb := dvMailbox(t, testserver.Alice, 0)
	old := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	start := time.Now()
	if _, err := c.AppendBytes(ctx, mb, testserver.SampleMessage(1), &commands.AppendOptions{Date: old}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, mb, nil); err != nil {
		t.Fatal(err)
	}
	today := time.Now()
	if today.YearDay() != start.YearDay() {
		t.Skip("midnight passed during the test: which day the message was saved on is not known")
	}
	for _, tt := range []struct {
		name string
		cr   commands.Criteria
		want uint32
	}{
		{"SAVEDSINCE today", commands.Criteria{SavedSince: today}, 1},
		{"SAVEDON today", commands.Criteria{SavedOn: today}, 1},
		{"SAVEDBEFORE today", commands.Criteria{SavedBefore: today}, 0},
		{"SAVEDSINCE the day after tomorrow", commands.Criteria{SavedSince: today.AddDate(0, 0, 2)}, 0},
		{"SAVEDATESUPPORTED", commands.Criteria{SavedateSupported: true}, 1},
		{"SINCE today (the internal date)", commands.Criteria{Since: today}, 0},
		{"ON the internal date", commands.Criteria{On: old}, 1},
	} {
		res, err := c.Search(ctx, &tt.cr, &commands.SearchOptions{UID: true})
		if err != nil || uint32(res.Count) != tt.want {
			t.Errorf("%s: %v, %d found; want %d", tt.name, err, res.Count, tt.want)
		}
	}
}
