package codec_test

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/hostile"
	"github.com/imapkit/imapkit/wire"
)

// TestESearchUnknownItemsBounded: one ESEARCH line whose unknown
// return items are interleaved with ALL items. Once the response is past
// 64 KiB, each ALL clones the unknown items read so far and calls
// Tokenizer.Keep, which restarts MaxLineLength's count: the unknown items
// are counted by no bound, and the line can hold any number of them.
// With the defaults, a 100 MiB line makes Next return one response whose
// values hold ~100 MiB (and it copies the growing list at every ALL:
// quadratic). Want: an error (ErrLineTooLong or a like bound) within a few
// MiB, as for every other line.
func TestESearchUnknownItemsBounded(t *testing.T) {
	const (
		value = 900 << 10 // each unknown item's value: within the line bound
		units = 100       // ~88 MiB in all
	)
	unit := " X " + strings.Repeat("a", value) + " ALL 1"
	r := io.MultiReader(strings.NewReader("* ESEARCH ALL 1"), hostile.Repeat(unit, units), strings.NewReader("\r\n"))
	d := codec.NewDecoder(wire.NewTokenizer(r, nil), nil) // defaults
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	resp, err := d.Next()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	held := int64(ms.HeapAlloc) - int64(before)
	if err == nil {
		es := resp.(*codec.ESearch)
		t.Logf("decoded: %d unknown items, CloneSize %d MiB, heap held %d MiB", len(es.Unknown), codec.CloneSize(resp)>>20, held>>20)
	} else {
		t.Logf("err %v, heap held %d MiB", err, held>>20)
	}
	runtime.KeepAlive(resp)
	if !errors.Is(err, wire.ErrLineTooLong) {
		t.Errorf("err %v; want wire.ErrLineTooLong", err)
	}
	if held > 32<<20 {
		t.Errorf("one ESEARCH line of %d MiB left %d MiB held by the decoder (err %v); want an error within the line bound (1 MiB), as for other lines", units*value>>20, held>>20, err)
	}
}
