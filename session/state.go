package session

import "strings"

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

var (
	anyState  = states(StateNonAuth, StateAuth, StateSelected, StateLogout)
	nonAuth   = states(StateNonAuth)
	authOnly  = states(StateAuth)
	authOrSel = states(StateAuth, StateSelected)
	selected  = states(StateSelected)
)

// commandInfo is what the session knows of a command.
type commandInfo struct {
	allowed stateSet
	// alone: the command runs with nothing else in flight and nothing
	// else starts before it ends (RFC 9051 section 5.5: STARTTLS,
	// AUTHENTICATE, IDLE, COMPRESS; also LOGIN, SELECT and the like, whose
	// outcome changes what the next commands mean).
	alone bool
	// seqNums: the command uses message sequence numbers.
	seqNums bool
	// noExpunge: the server must not send EXPUNGE while it runs (RFC 9051
	// section 7.5.1: FETCH, STORE, SEARCH).
	noExpunge bool
}

// commandTable is imaplib's state table, extended to the commands of the
// extensions this toolkit speaks.
var commandTable = map[string]commandInfo{
	"CAPABILITY": {allowed: anyState},
	"NOOP":       {allowed: anyState},
	"LOGOUT":     {allowed: anyState, alone: true},
	"ID":         {allowed: anyState},

	"LOGIN":        {allowed: nonAuth, alone: true},
	"AUTHENTICATE": {allowed: nonAuth, alone: true},
	"STARTTLS":     {allowed: nonAuth, alone: true},

	"ENABLE":         {allowed: authOnly, alone: true},
	"PROXYAUTH":      {allowed: authOnly, alone: true},
	"UNAUTHENTICATE": {allowed: authOrSel, alone: true},

	"APPEND":        {allowed: authOrSel},
	"CREATE":        {allowed: authOrSel},
	"DELETE":        {allowed: authOrSel},
	"DELETEACL":     {allowed: authOrSel},
	"EXAMINE":       {allowed: authOrSel, alone: true},
	"GETACL":        {allowed: authOrSel},
	"GETANNOTATION": {allowed: authOrSel},
	"GETQUOTA":      {allowed: authOrSel},
	"GETQUOTAROOT":  {allowed: authOrSel},
	"GETMETADATA":   {allowed: authOrSel},
	"LIST":          {allowed: authOrSel},
	"LISTRIGHTS":    {allowed: authOrSel},
	"LSUB":          {allowed: authOrSel},
	"MYRIGHTS":      {allowed: authOrSel},
	"NAMESPACE":     {allowed: authOrSel},
	"RENAME":        {allowed: authOrSel},
	"SELECT":        {allowed: authOrSel, alone: true},
	"SETACL":        {allowed: authOrSel},
	"SETANNOTATION": {allowed: authOrSel},
	"SETMETADATA":   {allowed: authOrSel},
	"SETQUOTA":      {allowed: authOrSel},
	"STATUS":        {allowed: authOrSel},
	"SUBSCRIBE":     {allowed: authOrSel},
	"UNSUBSCRIBE":   {allowed: authOrSel},
	"IDLE":          {allowed: authOrSel, alone: true},
	"COMPRESS":      {allowed: authOrSel, alone: true},
	"NOTIFY":        {allowed: authOrSel},

	"CHECK":       {allowed: selected},
	"CLOSE":       {allowed: selected, alone: true},
	"UNSELECT":    {allowed: selected, alone: true},
	"EXPUNGE":     {allowed: selected},
	"COPY":        {allowed: selected, seqNums: true},
	"MOVE":        {allowed: selected, seqNums: true},
	"FETCH":       {allowed: selected, seqNums: true, noExpunge: true},
	"STORE":       {allowed: selected, seqNums: true, noExpunge: true},
	"SEARCH":      {allowed: selected, seqNums: true, noExpunge: true},
	"ESEARCH":     {allowed: authOrSel},
	"SORT":        {allowed: selected, seqNums: true},
	"THREAD":      {allowed: selected, seqNums: true},
	"PARTIAL":     {allowed: selected, seqNums: true},
	"UID COPY":    {allowed: selected},
	"UID MOVE":    {allowed: selected},
	"UID FETCH":   {allowed: selected},
	"UID STORE":   {allowed: selected},
	"UID SEARCH":  {allowed: selected},
	"UID SORT":    {allowed: selected},
	"UID THREAD":  {allowed: selected},
	"UID EXPUNGE": {allowed: selected},
}

// lookup returns what the session knows of name ("FETCH", "UID FETCH").
// An unknown command (imaplib's xatom) is allowed in the current state and
// treated with care: it runs alone.
func lookup(name string) (commandInfo, bool) {
	info, ok := commandTable[strings.ToUpper(name)]
	return info, ok
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
