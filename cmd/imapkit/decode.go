package main

import (
	"bufio"
	"bytes"
	"encoding"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/imapkit/imapkit/codec"
	esc "github.com/imapkit/imapkit/internal/printable"
	"github.com/imapkit/imapkit/wire"
)

// defaultMaxBody is how much of each streamed body section decode keeps.
const defaultMaxBody = 64 << 10

// runDecode is "imapkit decode [FILE...]": it decodes raw server bytes
// (a capture) from the files, or standard input for none or "-", and
// prints one JSON object per response. It returns 0 when every response
// decoded, 1 when one did not (after reporting all of them) or a file
// could not be read, and 2 for a usage error.
func runDecode(stdin io.Reader, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	maxBody := fs.Int("max-body", defaultMaxBody, "keep at most `N` bytes of each body section in the output")
	trace := fs.Bool("trace", false, "the input is a session trace (session.Options.Trace): decode its \"S: \" lines")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: imapkit decode [-max-body N] [-trace] [FILE...]")
		fmt.Fprintln(fs.Output())
		fmt.Fprintln(fs.Output(), "Decode raw IMAP server bytes (a capture) from the files, or from standard")
		fmt.Fprintln(fs.Output(), "input when there are none or for \"-\", and print one JSON object per")
		fmt.Fprintln(fs.Output(), "response: {\"offset\": N, \"type\": \"FETCH\", \"response\": {...}}.")
		fmt.Fprintln(fs.Output(), "With -trace the input is a session's trace; \"line\" (the trace line)")
		fmt.Fprintln(fs.Output(), "replaces \"offset\". See docs/decode.md.")
		fmt.Fprintln(fs.Output(), "Exit status: 0 if every response decoded, 1 if one did not (or the output could not be written), 2 for bad usage.")
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *maxBody < 0 {
		fmt.Fprintln(stderr, "imapkit decode: -max-body must not be negative")
		return 2
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	out := bufio.NewWriter(stdout)
	status := 0
	for _, name := range files {
		var r io.Reader = stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(stderr, "imapkit decode: %s\n", errorLine(err))
				status = 1
				continue
			}
			r = f
		}
		file := r
		dec := &decodeRun{name: name, out: out, stderr: stderr, maxBody: *maxBody, withFile: len(files) > 1}
		var ts *traceStream
		if *trace {
			ts = newTraceStream(r)
			dec.lineOf = ts.lineOf
			r = ts
		}
		if !dec.stream(r) {
			status = 1
		}
		if dec.werr != nil {
			// The output failed (a full disk, a file over
			// RLIMIT_FSIZE): nothing more can be written, and a
			// capture being written never ends. Its error is
			// reported once, and nothing more is read.
			if c, ok := file.(io.Closer); ok && name != "-" {
				c.Close()
			}
			fmt.Fprintf(stderr, "imapkit decode: %s\n", errorLine(dec.werr))
			return 1
		}
		if ts != nil && ts.bad > 0 {
			fmt.Fprintf(stderr, "imapkit decode: %s: line %d: not a trace line (%d such lines skipped)\n", printable(name), ts.firstBad, ts.bad)
			status = 1
		}
		if c, ok := file.(io.Closer); ok && name != "-" {
			c.Close()
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "imapkit decode: %s\n", errorLine(err))
		return 1
	}
	return status
}

// decodeRun decodes one stream.
type decodeRun struct {
	name     string
	out      *bufio.Writer
	stderr   io.Writer
	maxBody  int
	withFile bool // add "file" to each object (several inputs)
	// lineOf, for a trace, gives the trace line of a stream offset:
	// positions are reported as "line" instead of "offset".
	lineOf func(off int64) int

	bodies map[int]body // the streamed sections of the current response
	// bodyErr is the error of section's read of a body of the current
	// response (the input ended inside it, or its reader failed): a
	// *codec.DecodeError that wraps it is the input's, not the response's.
	bodyErr error
	buf     bytes.Buffer
	// werr is the output's first write error: it stops the stream.
	// Ignored before, it let decode read and decode its input to the
	// end (forever, for a capture being written) writing nothing.
	werr error
	// compared counts the sections section compared s with to find its
	// index (1 when s is the last): the work tests bound.
	compared int
}

// body is the start of a streamed section body.
type body struct {
	data      []byte
	truncated bool
}

// stream decodes r to its end and reports whether every response decoded.
func (dr *decodeRun) stream(r io.Reader) bool {
	rw := &readWatch{r: r}
	t := wire.NewTokenizer(rw, nil)
	d := codec.NewDecoder(t, &codec.DecoderOptions{SectionHandler: dr.section})
	ok := true
	for {
		clear(dr.bodies)
		dr.bodyErr = nil
		off := t.Offset()
		resp, err := d.Next()
		if err == io.EOF {
			return ok
		}
		if err != nil {
			ok = false
			var de *codec.DecodeError
			if errors.As(err, &de) {
				if cut := dr.readCut(de, rw.err); cut != nil {
					// A well-formed response the input's end (or
					// the reader's failure) cut where the decoder
					// could not go back to its start: inside or
					// after a streamed body. Reported as the cut,
					// as the same cut before the body is; before,
					// as a response that "cannot be decoded", with
					// "codec: section handler: unexpected EOF" for
					// a body cut.
					dr.readFailed(de.Offset, cut)
					return false
				}
				name := de.Name
				if name == "" {
					name = "response"
				}
				if de.Seq != 0 {
					name += fmt.Sprintf(" of message %d", de.Seq)
					if de.UID != 0 {
						name += fmt.Sprintf(" (UID %d)", de.UID)
					}
				}
				fmt.Fprintf(dr.stderr, "imapkit decode: %s: %s: cannot decode %s: %v\n", printable(dr.name), dr.pos(de.Offset), name, de.Err)
				if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
					rw.err != nil && errors.Is(err, rw.err) {
					// The stream ended (or the reader failed) inside
					// the malformed response, while its rest was
					// skipped: the report says so ("the read failed
					// while skipping the rest"), and nothing more can
					// be read. Before, the next call met the end again
					// and it was reported a second time, "the stream
					// ends inside a response", at an offset inside the
					// response.
					return false
				}
				continue
			}
			// The reader failed or the stream ended inside a response:
			// nothing more can be read.
			dr.readFailed(off, err)
			return false
		}
		if dr.write(off, resp); dr.werr != nil {
			return false
		}
	}
}

// readCut returns the read's error when de, the error of a response, is
// that alone, the input's end or readErr (the reader's failure, nil if
// none), and nil otherwise: the decoder could not go back to the
// response's start (a body was read) and gave the read's error as it
// was, or section's read of a body failed (codec wraps a handler's error:
// "codec: section handler: unexpected EOF"). A response found malformed
// before the read failed is not cut (its cause holds the malformation).
func (dr *decodeRun) readCut(de *codec.DecodeError, readErr error) error {
	if dr.bodyErr != nil {
		if errors.Is(de.Err, dr.bodyErr) {
			return dr.bodyErr
		}
		return nil
	}
	if de.Err == io.ErrUnexpectedEOF || de.Err == io.EOF || readErr != nil && de.Err == readErr {
		return de.Err
	}
	return nil
}

// readFailed reports that the input ended (or its reader failed, err)
// inside the response at off.
func (dr *decodeRun) readFailed(off int64, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		fmt.Fprintf(dr.stderr, "imapkit decode: %s: %s: the stream ends inside a response\n", printable(dr.name), dr.pos(off))
	} else {
		fmt.Fprintf(dr.stderr, "imapkit decode: %s: %s: %s\n", printable(dr.name), dr.pos(off), errorLine(err))
	}
}

// readWatch is a reader that keeps its reader's first failure other than
// io.EOF, so that stream knows a *codec.DecodeError that wraps it for the
// end of its input.
type readWatch struct {
	r   io.Reader
	err error
}

func (rw *readWatch) Read(p []byte) (int, error) {
	n, err := rw.r.Read(p)
	if err != nil && err != io.EOF && rw.err == nil {
		rw.err = err
	}
	return n, err
}

// pos names a stream position in reports: "offset N", or "line N" of a
// trace.
func (dr *decodeRun) pos(off int64) string {
	if dr.lineOf != nil {
		return "line " + strconv.Itoa(dr.lineOf(off))
	}
	return "offset " + strconv.FormatInt(off, 10)
}

// section is the SectionHandler: it keeps up to maxBody bytes of the body,
// filed by the section's index in f.Sections. The decoder appends a section
// before it decodes its body, so s is the last of f.Sections: its index is
// known without a search (comparing s with every section before it cost
// O(s^2) for a FETCH of s sections: 70,000 in one 980 KB line took
// seconds). Should s ever be another, it is looked for.
func (dr *decodeRun) section(f *codec.Fetch, s *codec.Section, r io.Reader) error {
	i := len(f.Sections) - 1
	dr.compared++
	if i < 0 || &f.Sections[i] != s {
		for k := range f.Sections {
			dr.compared++
			if &f.Sections[k] == s {
				i = k
			}
		}
	}
	var b bytes.Buffer
	n, err := io.Copy(&b, io.LimitReader(r, int64(dr.maxBody)))
	if err != nil {
		// Only r's read fails (a bytes.Buffer's write does not): the
		// input ended inside the body, or its reader failed.
		dr.bodyErr = err
		return err
	}
	if dr.bodies == nil {
		dr.bodies = map[int]body{}
	}
	data := b.Bytes()
	if data == nil {
		data = []byte{} // an empty body, not NIL
	}
	dr.bodies[i] = body{data: data, truncated: n < s.Size}
	return nil
}

// write prints one response as a JSON line; a write error is kept in
// dr.werr.
func (dr *decodeRun) write(off int64, r codec.Response) {
	w := &dr.buf
	w.Reset()
	w.WriteByte('{')
	if dr.withFile {
		w.WriteString(`"file":`)
		jsonString(w, dr.name)
		w.WriteByte(',')
	}
	if dr.lineOf != nil {
		w.WriteString(`"line":`)
		w.WriteString(strconv.Itoa(dr.lineOf(off)))
	} else {
		w.WriteString(`"offset":`)
		w.WriteString(strconv.FormatInt(off, 10))
	}
	w.WriteString(`,"type":`)
	jsonString(w, responseType(r))
	w.WriteString(`,"response":`)
	dr.value(reflect.ValueOf(r))
	w.WriteString("}\n")
	if _, err := dr.out.Write(w.Bytes()); err != nil && dr.werr == nil {
		dr.werr = err
	}
}

// responseType names a response for the "type" field: the name it has on
// the wire.
func responseType(r codec.Response) string {
	if _, ok := r.(*codec.Unknown); ok {
		return "UNKNOWN"
	}
	return codec.ResponseName(r)
}

var (
	bytesType       = reflect.TypeFor[codec.Bytes]()
	seqSetType      = reflect.TypeFor[codec.SeqSet]()
	fetchType       = reflect.TypeFor[codec.Fetch]()
	mailboxStatType = reflect.TypeFor[codec.MailboxStatus]()
	esearchType     = reflect.TypeFor[codec.ESearch]()
	codeType        = reflect.TypeFor[codec.Code]()
	idType          = reflect.TypeFor[codec.ID]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
)

// An itemName names one bit of FetchItem, StatusItem or ESearchItem.
type itemName struct {
	bit  uint64
	name string
}

var itemNames = map[reflect.Type][]itemName{
	reflect.TypeFor[codec.FetchItem](): {
		{uint64(codec.FetchUID), "UID"}, {uint64(codec.FetchFlags), "FLAGS"},
		{uint64(codec.FetchInternalDate), "INTERNALDATE"}, {uint64(codec.FetchRFC822Size), "RFC822.SIZE"},
		{uint64(codec.FetchEnvelope), "ENVELOPE"}, {uint64(codec.FetchBodyStructure), "BODYSTRUCTURE"},
		{uint64(codec.FetchModSeq), "MODSEQ"}, {uint64(codec.FetchEmailID), "EMAILID"},
		{uint64(codec.FetchThreadID), "THREADID"}, {uint64(codec.FetchSaveDate), "SAVEDATE"},
		{uint64(codec.FetchPreview), "PREVIEW"}, {uint64(codec.FetchGmailMsgID), "X-GM-MSGID"},
		{uint64(codec.FetchGmailThreadID), "X-GM-THRID"}, {uint64(codec.FetchGmailLabels), "X-GM-LABELS"},
	},
	reflect.TypeFor[codec.StatusItem](): {
		{uint64(codec.StatusMessages), "MESSAGES"}, {uint64(codec.StatusRecent), "RECENT"},
		{uint64(codec.StatusUIDNext), "UIDNEXT"}, {uint64(codec.StatusUIDValidity), "UIDVALIDITY"},
		{uint64(codec.StatusUnseen), "UNSEEN"}, {uint64(codec.StatusDeleted), "DELETED"},
		{uint64(codec.StatusSize), "SIZE"}, {uint64(codec.StatusHighestModSeq), "HIGHESTMODSEQ"},
		{uint64(codec.StatusAppendLimit), "APPENDLIMIT"}, {uint64(codec.StatusMailboxID), "MAILBOXID"},
	},
	reflect.TypeFor[codec.ESearchItem](): {
		{uint64(codec.ESearchMin), "MIN"}, {uint64(codec.ESearchMax), "MAX"},
		{uint64(codec.ESearchCount), "COUNT"}, {uint64(codec.ESearchAll), "ALL"},
		{uint64(codec.ESearchModSeq), "MODSEQ"},
	},
}

// present maps the fields of Fetch, MailboxStatus and ESearch to the item
// bit that says whether the server sent them. Fields whose bit is clear are
// left out of the output.
var present = map[reflect.Type]map[string]uint64{
	fetchType: {
		"UID": uint64(codec.FetchUID), "Flags": uint64(codec.FetchFlags), "InternalDate": uint64(codec.FetchInternalDate),
		"RFC822Size": uint64(codec.FetchRFC822Size), "Envelope": uint64(codec.FetchEnvelope), "BodyStructure": uint64(codec.FetchBodyStructure),
		"ModSeq": uint64(codec.FetchModSeq), "EmailID": uint64(codec.FetchEmailID), "ThreadID": uint64(codec.FetchThreadID),
		"SaveDate": uint64(codec.FetchSaveDate), "Preview": uint64(codec.FetchPreview), "GmailMsgID": uint64(codec.FetchGmailMsgID),
		"GmailThreadID": uint64(codec.FetchGmailThreadID), "GmailLabels": uint64(codec.FetchGmailLabels),
	},
	mailboxStatType: {
		"Messages": uint64(codec.StatusMessages), "Recent": uint64(codec.StatusRecent), "UIDNext": uint64(codec.StatusUIDNext),
		"UIDValidity": uint64(codec.StatusUIDValidity), "Unseen": uint64(codec.StatusUnseen), "Deleted": uint64(codec.StatusDeleted),
		"Size": uint64(codec.StatusSize), "HighestModSeq": uint64(codec.StatusHighestModSeq),
		"AppendLimit": uint64(codec.StatusAppendLimit), "MailboxID": uint64(codec.StatusMailboxID),
	},
	esearchType: {
		"Min": uint64(codec.ESearchMin), "Max": uint64(codec.ESearchMax), "Count": uint64(codec.ESearchCount),
		"All": uint64(codec.ESearchAll), "ModSeq": uint64(codec.ESearchModSeq),
	},
}

// optionalLists are list fields left out when empty.
var optionalLists = map[reflect.Type]map[string]bool{
	fetchType:       {"Sections": true, "BinarySizes": true, "Unknown": true},
	mailboxStatType: {"Unknown": true},
	esearchType:     {"Unknown": true},
}

// codeFields lists the fields of a Code shown for each kind, besides Kind
// and Name; any other kind shows Raw.
var codeFields = map[codec.CodeKind][]string{
	codec.CodeCapability:     {"Caps"},
	codec.CodePermanentFlags: {"Flags"},
	codec.CodeBadCharset:     {"Charsets"},
	codec.CodeUIDNext:        {"Num"},
	codec.CodeUIDValidity:    {"Num"},
	codec.CodeUnseen:         {"Num"},
	codec.CodeHighestModSeq:  {"Num"},
	codec.CodeAppendUID:      {"UIDValidity", "Dst"},
	codec.CodeCopyUID:        {"UIDValidity", "Src", "Dst"},
	codec.CodeModified:       {"Set"},
	codec.CodeMetadata:       {"Sub", "Num"},
	codec.CodeMailboxID:      {"Sub"},
}

// value writes v as JSON.
func (dr *decodeRun) value(v reflect.Value) {
	w := &dr.buf
	t := v.Type()
	switch {
	case t == bytesType:
		jsonBytes(w, v.Interface().(codec.Bytes))
		return
	case t == seqSetType:
		s := v.Interface().(codec.SeqSet)
		jsonString(w, string(wire.AppendSeqSet(nil, s.Ranges())))
		return
	case itemNames[t] != nil:
		w.WriteByte('[')
		first := true
		for _, in := range itemNames[t] {
			if v.Uint()&in.bit != 0 {
				if !first {
					w.WriteByte(',')
				}
				first = false
				jsonString(w, in.name)
			}
		}
		w.WriteByte(']')
		return
	case t.Kind() != reflect.Pointer && t.Implements(textMarshaler):
		b, _ := v.Interface().(encoding.TextMarshaler).MarshalText()
		jsonString(w, string(b))
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			w.WriteString("null")
			return
		}
		dr.value(v.Elem())
	case reflect.Slice:
		w.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				w.WriteByte(',')
			}
			dr.value(v.Index(i))
		}
		w.WriteByte(']')
	case reflect.Struct:
		dr.object(v)
	case reflect.Bool:
		w.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.WriteString(strconv.FormatUint(v.Uint(), 10))
	default:
		w.WriteString("null")
	}
}

// object writes a struct as a JSON object with its fields in order,
// following the rules of docs/decode.md.
func (dr *decodeRun) object(v reflect.Value) {
	w := &dr.buf
	t := v.Type()
	var shown map[string]bool
	if t == codeType {
		shown = map[string]bool{"Kind": true, "Name": true}
		fields, ok := codeFields[v.Interface().(codec.Code).Kind]
		if !ok {
			fields = []string{"Raw"}
		}
		for _, f := range fields {
			shown[f] = true
		}
	}
	var has uint64
	switch t {
	case fetchType:
		has = v.FieldByName("Has").Uint()
	case mailboxStatType:
		has = v.FieldByName("Items").Uint()
	case esearchType:
		has = v.FieldByName("Has").Uint()
	}
	w.WriteByte('{')
	first := true
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		fv := v.Field(i)
		if shown != nil && !shown[sf.Name] {
			continue
		}
		if bit, ok := present[t][sf.Name]; ok && has&bit == 0 {
			continue
		}
		if optionalLists[t][sf.Name] && fv.Len() == 0 {
			continue
		}
		if !first {
			w.WriteByte(',')
		}
		first = false
		jsonString(w, sf.Name)
		w.WriteByte(':')
		switch {
		case sf.Name == "Delim" && fv.Kind() == reflect.Uint8:
			if fv.Uint() == 0 {
				w.WriteString("null")
			} else {
				jsonBytes(w, codec.Bytes{byte(fv.Uint())})
			}
		case t == idType && sf.Name == "Params" && fv.IsNil():
			w.WriteString("null") // ID NIL
		case t == fetchType && sf.Name == "Sections":
			dr.sections(fv.Interface().([]codec.Section))
		default:
			dr.value(fv)
		}
	}
	w.WriteByte('}')
}

// sections writes the sections of a FETCH, with the bodies the section
// handler kept.
func (dr *decodeRun) sections(ss []codec.Section) {
	w := &dr.buf
	w.WriteByte('[')
	for i := range ss {
		if i > 0 {
			w.WriteByte(',')
		}
		s := ss[i]
		if s.Specifier == nil {
			s.Specifier = codec.Bytes{} // BODY[] has no specifier, like BODY[1]
		}
		truncated := false
		if bd, ok := dr.bodies[i]; ok && s.Streamed {
			s.Data = codec.Bytes(bd.data)
			truncated = bd.truncated
		}
		dr.value(reflect.ValueOf(s))
		// Add "Truncated" before the closing brace.
		w.Truncate(w.Len() - 1)
		w.WriteString(`,"Truncated":`)
		w.WriteString(strconv.FormatBool(truncated))
		w.WriteByte('}')
	}
	w.WriteByte(']')
}

// jsonBytes writes b as codec.Bytes.MarshalJSON does: null for nil, a
// string for valid UTF-8, else a string of one character per byte
// (Latin-1). Unlike encoding/json it leaves <, > and & alone.
func jsonBytes(w *bytes.Buffer, b codec.Bytes) {
	if b == nil {
		w.WriteString("null")
		return
	}
	if utf8.Valid(b) {
		jsonString(w, string(b))
		return
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	jsonString(w, string(r))
}

// jsonString writes s, valid UTF-8, as a JSON string.
func jsonString(w *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	w.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			w.WriteByte('\\')
			w.WriteRune(r)
		case r == '\n':
			w.WriteString(`\n`)
		case r == '\r':
			w.WriteString(`\r`)
		case r == '\t':
			w.WriteString(`\t`)
		case esc.Unsafe(r):
			w.WriteString(`\u`)
			w.WriteByte(hex[r>>12&0xf])
			w.WriteByte(hex[r>>8&0xf])
			w.WriteByte(hex[r>>4&0xf])
			w.WriteByte(hex[r&0xf])
		default:
			w.WriteRune(r)
		}
	}
	w.WriteByte('"')
}
