package session

import (
	"slices"
	"strings"
)

// State is a connection state (RFC 9051 section 3).
type State uint8

// The connection states, named as in imaplib.
const (
	StateNonAuth  State = iota + 1 // NONAUTH: not authenticated
	StateAuth                      // AUTH: authenticated, no mailbox selected
	StateSelected                  // SELECTED: a mailbox is selected
	StateLogout                    // LOGOUT: the connection is ending
)

var stateNames = [...]string{"", "NONAUTH", "AUTH", "SELECTED", "LOGOUT"}

// String returns NONAUTH, AUTH, SELECTED or LOGOUT.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "?"
}

// stateSet is a set of states.
type stateSet uint8

func (s stateSet) has(st State) bool { return s&(1<<st) != 0 }

func states(list ...State) stateSet {
	var s stateSet
	for _, st := range list {
		s |= 1 << st
	}
	return s
}

// list returns the states in s, in order.
func (s stateSet) list() []State {
	var out []State
	for st := StateNonAuth; st <= StateLogout; st++ {
		if s.has(st) {
			out = append(out, st)
		}
	}
	return out
}

var anyState = states(StateNonAuth, StateAuth, StateSelected, StateLogout)

// Transition is how a command changes the connection state.
type Transition uint8

// The transitions of the state table.
const (
	NoTransition Transition = iota
	ToAuth                  // on OK, to AUTH (LOGIN, AUTHENTICATE)
	ToSelected              // on OK, to SELECTED; otherwise to AUTH (SELECT, EXAMINE)
	ToAuthAlways            // to AUTH whatever the answer (CLOSE, UNSELECT)
	ToLogout                // to LOGOUT (LOGOUT)
	ToNonAuth               // on OK, to NONAUTH (UNAUTHENTICATE)
)

// Target says what a command's arguments point at, which routes its
// untagged responses when commands are pipelined.
type Target uint8

// The targets.
const (
	NoTarget       Target = iota
	TargetMessages        // a message set (FETCH, STORE): FETCH responses go by it
	TargetMailbox         // a mailbox (SELECT, EXAMINE, STATUS): STATUS responses go by it
)

// Rules is what the session knows of one command: the row of its table.
// The table holds the commands of RFC 3501, RFC 9051 and the extensions
// this toolkit speaks; Command.Rules gives the rules of any other.
type Rules struct {
	// States lists the states the command is allowed in; nil means any.
	States []State
	// Alone: the command runs with nothing else in flight, and nothing
	// else starts before it ends (RFC 9051 section 5.5: STARTTLS,
	// AUTHENTICATE, IDLE, COMPRESS; also LOGIN, SELECT and the like, whose
	// outcome changes what the next commands mean).
	Alone bool
	// SeqNums: the command uses message sequence numbers, so it is not
	// pipelined with a command during which the server may send EXPUNGE.
	SeqNums bool
	// NoExpunge: the server must not send EXPUNGE while it runs (RFC 9051
	// section 7.5.1: FETCH, STORE, SEARCH).
	NoExpunge bool
	// Data names the untagged responses that belong to the command, as
	// codec.ResponseName gives them: "FETCH", "LIST", "OK" (untagged
	// status responses), ... A tagged ESEARCH always goes to its tag.
	Data []string
	// Target is what the arguments point at; Command.Messages and
	// Command.Mailbox give it, or the session reads it back from the
	// encoded bytes.
	Target Target
	// Transition is the state change when the command ends.
	Transition Transition
	// RefreshCaps: the capabilities change when the command succeeds
	// (RFC 9051 section 6.2); they are asked for again unless its OK
	// carries them.
	RefreshCaps bool
	// Continuations: the command takes continuation requests that are not
	// for a literal of its own (IDLE, AUTHENTICATE). Any other "+" is a
	// protocol violation.
	Continuations bool
	// SecretContinuations: the lines sent in answer to its continuation
	// requests are secret (AUTHENTICATE).
	SecretContinuations bool
	// Waits: the server may rightly send nothing for a long time (IDLE):
	// neither the stall timeout nor the command bound applies.
	Waits bool
	// UIDs: the message set of a TargetMessages command holds UIDs (the
	// UID forms of FETCH and STORE).
	UIDs bool
	// ReadOnly: a ToSelected command that opens the mailbox read-only
	// (EXAMINE). A read-write one (SELECT) answered [READ-ONLY] is
	// imaplib's readonly error.
	ReadOnly bool
}

// commandInfo is Rules compiled for the session's use.
type commandInfo struct {
	data       []string // first: the one-byte fields after it fill a word
	allowed    stateSet
	alone      bool
	seqNums    bool
	noExpunge  bool
	target     Target
	transition Transition
	refresh    bool
	conts      bool
	secretCont bool
	waits      bool
	uids       bool
	readOnly   bool
	// bySet: the command takes FETCH responses, given to it by its
	// message set (FETCH, STORE, their UID forms): two such commands
	// whose sets overlap cannot tell their responses apart.
	bySet bool
	// untold: the kinds of untagged data the command takes that name
	// nothing the session could give them by (untoldKinds, a bit for
	// each group): two commands that share one cannot be told apart, and
	// are not pipelined (clash). keyed: those of them it takes by a key
	// the session routes by, so that two such commands can share them:
	// STATUS by its mailbox.
	untold, keyed uint8
}

// clash reports whether two commands that take the untold kinds a and b,
// of which they take ak and bk by key, cannot be told apart: they share a
// kind that one of them does not take by key. Two STATUS commands go by
// their mailboxes; a STATUS command and a LIST that asks for STATUS
// (LIST-STATUS) do not: the STATUS command took the LIST's STATUS
// responses for its mailbox.
func clash(a, ak, b, bk uint8) bool { return a&b&^(ak&bk) != 0 }

// untoldKinds are the kinds of untagged data that go to the oldest
// command in flight that takes them, with nothing in them to tell two
// such commands apart, by group (a bit each in commandInfo.untold; kinds
// grouped only keep more commands apart than needed). Dovecot answers
// four pipelined UID SEARCH with their four "* SEARCH" lines first, then
// the four tagged OKs: the oldest took all four answers. The others are
// given by what they carry: FETCH by its message set, ESEARCH by its tag,
// STATUS by its mailbox between STATUS commands (keyed), and VANISHED
// (EARLIER), which only UID FETCH takes, while the commands that expunge
// take EXPUNGE too, which keeps them apart.
var untoldKinds = map[string]uint8{
	"SEARCH": 1 << 0, "SORT": 1 << 0, "THREAD": 1 << 0,
	"LIST": 1 << 1, "LSUB": 1 << 1,
	"NAMESPACE": 1 << 2, "ID": 1 << 2, "CAPABILITY": 1 << 2, "ENABLED": 1 << 2,
	"QUOTA": 1 << 3, "QUOTAROOT": 1 << 3,
	"ACL": 1 << 4, "MYRIGHTS": 1 << 4, "LISTRIGHTS": 1 << 4,
	"METADATA": 1 << 5, "ANNOTATION": 1 << 5,
	"EXPUNGE": 1 << 6,
	"STATUS":  untoldStatus,
}

// untoldStatus is the bit of STATUS among untoldKinds.
const untoldStatus = 1 << 7

// untoldMask returns the bits of the untoldKinds among data.
func untoldMask(data []string) uint8 {
	var m uint8
	for _, d := range data {
		m |= untoldKinds[d]
	}
	return m
}

func compile(r Rules) commandInfo {
	allowed := anyState
	if r.States != nil {
		allowed = states(r.States...)
	}
	return commandInfo{allowed: allowed, alone: r.Alone, seqNums: r.SeqNums, noExpunge: r.NoExpunge,
		data: r.Data, target: r.Target, transition: r.Transition, refresh: r.RefreshCaps,
		conts: r.Continuations, secretCont: r.SecretContinuations, waits: r.Waits,
		uids: r.UIDs, readOnly: r.ReadOnly,
		bySet:  r.Target == TargetMessages && slices.Contains(r.Data, "FETCH"),
		untold: untoldMask(r.Data), keyed: keyedMask(r)}
}

// keyedMask returns the untoldKinds that r's command takes by a key: the
// STATUS of a command whose mailbox the session reads (TargetMailbox).
func keyedMask(r Rules) uint8 {
	if r.Target == TargetMailbox {
		return untoldStatus
	}
	return 0
}

// wants reports whether the untagged response named name belongs to the
// command.
func (c *commandInfo) wants(name string) bool {
	for _, d := range c.data {
		if d == name {
			return true
		}
	}
	return false
}

var (
	sAny      = []State(nil)
	sNonAuth  = []State{StateNonAuth}
	sAuth     = []State{StateAuth}
	sAuthSel  = []State{StateAuth, StateSelected}
	sSelected = []State{StateSelected}
)

// rulesTable is imaplib's state table, extended to the commands of the
// extensions this toolkit speaks: every per-command fact the session uses
// is here.
var rulesTable = map[string]Rules{
	"CAPABILITY": {States: sAny, Data: []string{"CAPABILITY"}},
	"NOOP":       {States: sAny},
	"LOGOUT":     {States: sAny, Alone: true, Transition: ToLogout},
	"ID":         {States: sAny, Data: []string{"ID"}},

	"LOGIN":        {States: sNonAuth, Alone: true, Transition: ToAuth, RefreshCaps: true},
	"AUTHENTICATE": {States: sNonAuth, Alone: true, Transition: ToAuth, RefreshCaps: true, Continuations: true, SecretContinuations: true},
	"STARTTLS":     {States: sNonAuth, Alone: true},

	"ENABLE":         {States: sAuth, Alone: true, Data: []string{"ENABLED"}},
	"PROXYAUTH":      {States: sAuth, Alone: true},
	"UNAUTHENTICATE": {States: sAuthSel, Alone: true, Transition: ToNonAuth, RefreshCaps: true},

	"APPEND":        {States: sAuthSel},
	"CREATE":        {States: sAuthSel},
	"DELETE":        {States: sAuthSel},
	"DELETEACL":     {States: sAuthSel},
	"EXAMINE":       {States: sAuthSel, Alone: true, Target: TargetMailbox, Transition: ToSelected, Data: selectData, ReadOnly: true},
	"SELECT":        {States: sAuthSel, Alone: true, Target: TargetMailbox, Transition: ToSelected, Data: selectData},
	"GETACL":        {States: sAuthSel, Data: []string{"ACL"}},
	"GETANNOTATION": {States: sAuthSel, Data: []string{"ANNOTATION"}},
	"GETQUOTA":      {States: sAuthSel, Data: []string{"QUOTA"}},
	"GETQUOTAROOT":  {States: sAuthSel, Data: []string{"QUOTA", "QUOTAROOT"}},
	"GETMETADATA":   {States: sAuthSel, Data: []string{"METADATA"}},
	"LIST":          {States: sAuthSel, Data: []string{"LIST", "STATUS", "MYRIGHTS"}}, // RETURN (STATUS ...), (MYRIGHTS): RFC 5819, RFC 8440
	"LISTRIGHTS":    {States: sAuthSel, Data: []string{"LISTRIGHTS"}},
	"LSUB":          {States: sAuthSel, Data: []string{"LSUB", "LIST"}},
	"MYRIGHTS":      {States: sAuthSel, Data: []string{"MYRIGHTS"}},
	"NAMESPACE":     {States: sAuthSel, Data: []string{"NAMESPACE"}},
	"RENAME":        {States: sAuthSel},
	"SETACL":        {States: sAuthSel},
	"SETANNOTATION": {States: sAuthSel},
	"SETMETADATA":   {States: sAuthSel},
	"SETQUOTA":      {States: sAuthSel, Data: []string{"QUOTA"}},
	"STATUS":        {States: sAuthSel, Target: TargetMailbox, Data: []string{"STATUS"}},
	"SUBSCRIBE":     {States: sAuthSel},
	"UNSUBSCRIBE":   {States: sAuthSel},
	"IDLE":          {States: sAuthSel, Alone: true, Continuations: true, Waits: true},
	"COMPRESS":      {States: sAuthSel, Alone: true},
	"NOTIFY":        {States: sAuthSel, Data: []string{"STATUS"}}, // the answer to NOTIFY SET STATUS
	"ESEARCH":       {States: sAuthSel, Data: []string{"ESEARCH"}},

	"CHECK":       {States: sSelected},
	"CLOSE":       {States: sSelected, Alone: true, Transition: ToAuthAlways, Data: []string{"EXPUNGE"}},
	"UNSELECT":    {States: sSelected, Alone: true, Transition: ToAuthAlways},
	"EXPUNGE":     {States: sSelected, Data: []string{"EXPUNGE", "VANISHED"}},
	"COPY":        {States: sSelected, SeqNums: true},
	"MOVE":        {States: sSelected, SeqNums: true, Data: []string{"EXPUNGE", "VANISHED"}},
	"REPLACE":     {States: sSelected, SeqNums: true, Data: []string{"EXPUNGE", "VANISHED"}},
	"FETCH":       {States: sSelected, SeqNums: true, NoExpunge: true, Target: TargetMessages, Data: []string{"FETCH"}},
	"STORE":       {States: sSelected, SeqNums: true, NoExpunge: true, Target: TargetMessages, Data: []string{"FETCH"}},
	"SEARCH":      {States: sSelected, SeqNums: true, NoExpunge: true, Data: []string{"SEARCH", "ESEARCH"}},
	"SORT":        {States: sSelected, SeqNums: true, Data: []string{"SORT", "ESEARCH"}},
	"THREAD":      {States: sSelected, SeqNums: true, Data: []string{"THREAD"}},
	"PARTIAL":     {States: sSelected, SeqNums: true, Target: TargetMessages, Data: []string{"FETCH"}},
	"UID COPY":    {States: sSelected},
	"UID MOVE":    {States: sSelected, Data: []string{"EXPUNGE", "VANISHED"}},
	"UID REPLACE": {States: sSelected, Data: []string{"EXPUNGE", "VANISHED"}},
	"UID FETCH":   {States: sSelected, Target: TargetMessages, UIDs: true, Data: []string{"FETCH", "VANISHED"}},
	"UID STORE":   {States: sSelected, Target: TargetMessages, UIDs: true, Data: []string{"FETCH"}},
	"UID SEARCH":  {States: sSelected, Data: []string{"SEARCH", "ESEARCH"}},
	"UID SORT":    {States: sSelected, Data: []string{"SORT", "ESEARCH"}},
	"UID THREAD":  {States: sSelected, Data: []string{"THREAD"}},
	"UID EXPUNGE": {States: sSelected, Data: []string{"EXPUNGE", "VANISHED"}},
}

// selectData is what SELECT and EXAMINE collect: the mailbox's state, and
// the untagged OK/NO/BAD with their codes (UIDVALIDITY, PERMANENTFLAGS,
// ...), FETCH and VANISHED of QRESYNC, and the EXPUNGEs another client's
// expunge brings before the tagged OK, which take from the EXISTS before
// them (as the session's count does: commands' MailboxState.Exists).
var selectData = []string{"FLAGS", "EXISTS", "RECENT", "OK", "NO", "BAD", "FETCH", "VANISHED", "EXPUNGE"}

// commandTable is rulesTable compiled.
var commandTable = func() map[string]commandInfo {
	m := make(map[string]commandInfo, len(rulesTable))
	for name, r := range rulesTable {
		m[name] = compile(r)
	}
	return m
}()

// lookup returns what the session knows of name ("FETCH", "UID FETCH").
func lookup(name string) (commandInfo, bool) {
	info, ok := commandTable[strings.ToUpper(name)]
	return info, ok
}

// unknownCommand is the rule for a command the session does not know and
// the caller gave no Rules for (imaplib's xatom): any state, runs alone,
// continuation requests go to the caller.
var unknownCommand = compile(Rules{Alone: true, Continuations: true})

// CommandRules returns the table's rules for the command name ("FETCH",
// "UID FETCH"), and false for a command the session does not know.
func CommandRules(name string) (Rules, bool) {
	r, ok := rulesTable[strings.ToUpper(name)]
	return r, ok
}

// AllowedStates returns the states in which the command name may be sent,
// and false for a command the session does not know.
func AllowedStates(name string) ([]State, bool) {
	info, ok := lookup(name)
	if !ok {
		return nil, false
	}
	return info.allowed.list(), true
}
