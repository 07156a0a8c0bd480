package codec

// CodeKind identifies a response code.
type CodeKind uint8

// Response codes (RFC 9051 section 7.1, RFC 4315, RFC 7162, RFC 5530,
// RFC 5464, RFC 8474). CodeOther is any other code, kept raw.
const (
	CodeOther CodeKind = iota
	CodeAlert
	CodeBadCharset
	CodeCapability
	CodeParse
	CodePermanentFlags
	CodeReadOnly
	CodeReadWrite
	CodeTryCreate
	CodeUIDNext
	CodeUIDValidity
	CodeUnseen
	CodeAppendUID
	CodeCopyUID
	CodeUIDNotSticky
	CodeHighestModSeq
	CodeNoModSeq
	CodeModified
	CodeClosed
	CodeNotSaved
	CodeMetadata
	CodeMailboxID
	// RFC 5530 codes, which carry no data.
	CodeUnavailable
	CodeAuthenticationFailed
	CodeAuthorizationFailed
	CodeExpired
	CodePrivacyRequired
	CodeContactAdmin
	CodeNoPerm
	CodeInUse
	CodeExpungeIssued
	CodeCorruption
	CodeServerBug
	CodeClientBug
	CodeCannot
	CodeLimit
	CodeOverQuota
	CodeAlreadyExists
	CodeNonExistent
	CodeHasChildren
	CodeUseAttr
	CodeUnknownCTE
)

// codeNames maps upper-case names to kinds.
var codeNames = map[string]CodeKind{
	"ALERT": CodeAlert, "BADCHARSET": CodeBadCharset, "CAPABILITY": CodeCapability,
	"PARSE": CodeParse, "PERMANENTFLAGS": CodePermanentFlags, "READ-ONLY": CodeReadOnly,
	"READ-WRITE": CodeReadWrite, "TRYCREATE": CodeTryCreate, "UIDNEXT": CodeUIDNext,
	"UIDVALIDITY": CodeUIDValidity, "UNSEEN": CodeUnseen, "APPENDUID": CodeAppendUID,
	"COPYUID": CodeCopyUID, "UIDNOTSTICKY": CodeUIDNotSticky, "HIGHESTMODSEQ": CodeHighestModSeq,
	"NOMODSEQ": CodeNoModSeq, "MODIFIED": CodeModified, "CLOSED": CodeClosed,
	"NOTSAVED": CodeNotSaved, "METADATA": CodeMetadata, "MAILBOXID": CodeMailboxID,
	"UNAVAILABLE": CodeUnavailable, "AUTHENTICATIONFAILED": CodeAuthenticationFailed,
	"AUTHORIZATIONFAILED": CodeAuthorizationFailed, "EXPIRED": CodeExpired,
	"PRIVACYREQUIRED": CodePrivacyRequired, "CONTACTADMIN": CodeContactAdmin,
	"NOPERM": CodeNoPerm, "INUSE": CodeInUse, "EXPUNGEISSUED": CodeExpungeIssued,
	"CORRUPTION": CodeCorruption, "SERVERBUG": CodeServerBug, "CLIENTBUG": CodeClientBug,
	"CANNOT": CodeCannot, "LIMIT": CodeLimit, "OVERQUOTA": CodeOverQuota,
	"ALREADYEXISTS": CodeAlreadyExists, "NONEXISTENT": CodeNonExistent,
	"HASCHILDREN": CodeHasChildren, "USEATTR": CodeUseAttr, "UNKNOWN-CTE": CodeUnknownCTE,
}

// codeKindNames is the reverse of codeNames.
var codeKindNames = func() map[CodeKind]string {
	m := make(map[CodeKind]string, len(codeNames))
	for n, k := range codeNames {
		m[k] = n
	}
	return m
}()

// String returns the code's canonical name, or "OTHER".
func (k CodeKind) String() string {
	if n, ok := codeKindNames[k]; ok {
		return n
	}
	return "OTHER"
}

// MarshalText implements encoding.TextMarshaler.
func (k CodeKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Code is a response code, the bracketed part of a status response such as
// [UIDNEXT 4392] or [COPYUID 38505 304,319:320 3956:3958]. Kind says which
// fields are set; an unknown code keeps its arguments in Raw. A code of a
// known kind whose arguments do not parse is no code: the status's text
// begins with its "[". So are a COPYUID or APPENDUID whose sets hold "*"
// (RFC 4315) or whose UIDVALIDITY is 0, and a UIDVALIDITY of 0 (an
// nz-number): a decoded UIDValidity is never 0, Src and Dst never hold
// "*".
type Code struct {
	Kind CodeKind
	Name Bytes // as sent

	Num         uint64  // UIDNEXT, UIDVALIDITY, UNSEEN (nz-numbers of 32 bits), HIGHESTMODSEQ; METADATA MAXSIZE and LONGENTRIES
	Caps        []Bytes // CAPABILITY
	Flags       []Bytes // PERMANENTFLAGS
	Charsets    []Bytes // BADCHARSET
	UIDValidity uint32  // APPENDUID, COPYUID (never 0)
	Src         SeqSet  // COPYUID: the source UIDs (never "*")
	Dst         SeqSet  // COPYUID: the destination UIDs; APPENDUID: the appended UIDs (never "*")
	Set         SeqSet  // MODIFIED (never "*": a MODIFIED with one is a *DecodeError)
	Sub         Bytes   // METADATA: LONGENTRIES, MAXSIZE, TOOMANY or NOPRIVATE; MAILBOXID: the id
	Raw         Bytes   // the arguments of any other code, raw; nil when none
}
