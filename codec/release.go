package codec

import "sync"

// flyweightPool holds the reusable values of decoders that released them.
var flyweightPool = sync.Pool{New: func() any { return new(flyweights) }}

// Release drops what the decoder keeps of the responses it returned: its
// reusable values point into the tokenizer's buffer and would keep it
// alive. A session that gives its tokenizer's buffer back while it waits
// (wire.Tokenizer.Release) calls it too, so that the buffer can be freed
// and the waiting decoder holds nothing; the next call to Next takes
// reusable values again (from a pool). The responses returned before
// become invalid. Call it between two responses.
func (d *Decoder) Release() {
	if d.fw != nil {
		*d.fw = flyweights{}
		flyweightPool.Put(d.fw)
		d.fw = nil
	}
	d.msg = msgArena{}
	d.tag = nil
}
