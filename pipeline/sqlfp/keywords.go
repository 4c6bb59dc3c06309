package sqlfp

import "strings"

// kwID identifies a keyword; 0 means "not a keyword".
type kwID uint8

// Keywords the clause state machine acts on. Other words the analyzer only
// needs to recognize get IDs after kwGeneric.
const (
	kwNone kwID = iota
	kwSelect
	kwInsert
	kwUpdate
	kwDelete
	kwUpsert
	kwGrant
	kwRevoke
	kwCreate
	kwAlter
	kwDrop
	kwSet
	kwShow
	kwTruncate
	kwWith
	kwFrom
	kwJoin
	kwOn
	kwUsing
	kwWhere
	kwHaving
	kwGroup
	kwOrder
	kwLimit
	kwOffset
	kwReturning
	kwInto
	kwAs
	kwNot
	kwIn
	kwLike
	kwIlike
	kwSimilar
	kwBetween
	kwAnd
	kwIs
	kwDistinct
	kwAll
	kwTable
	kwValues
	kwUnion
	kwIntersect
	kwExcept
	kwTrue
	kwFalse
	kwNull
	kwDo
	kwTo
	kwIf
	kwExists
	kwDatabase
	kwSchema
	kwIndex
	kwView
	kwSequence
	kwConflict
	kwDefault
	kwWindow
	kwFetch
	kwAt
	kwArray
	kwInterval
	kwGeneric
)

type kwFlag uint8

const (
	fReserved  kwFlag = 1 << iota // never a column, alias or table name
	fVerb                         // may start a statement; Verb is its upper case
	fValueLike                    // ends an operand (NULL, TRUE, END): a following '-' is binary
)

type kwDef struct {
	word  string
	flags kwFlag
}

var namedKeywords = [...]kwDef{
	kwSelect:    {"select", fReserved | fVerb},
	kwInsert:    {"insert", fReserved | fVerb},
	kwUpdate:    {"update", fReserved | fVerb},
	kwDelete:    {"delete", fReserved | fVerb},
	kwUpsert:    {"upsert", fReserved | fVerb},
	kwGrant:     {"grant", fReserved | fVerb},
	kwRevoke:    {"revoke", fReserved | fVerb},
	kwCreate:    {"create", fReserved | fVerb},
	kwAlter:     {"alter", fReserved | fVerb},
	kwDrop:      {"drop", fReserved | fVerb},
	kwSet:       {"set", fReserved | fVerb},
	kwShow:      {"show", fReserved | fVerb},
	kwTruncate:  {"truncate", fReserved | fVerb},
	kwWith:      {"with", fReserved | fVerb},
	kwFrom:      {"from", fReserved},
	kwJoin:      {"join", fReserved},
	kwOn:        {"on", fReserved},
	kwUsing:     {"using", fReserved},
	kwWhere:     {"where", fReserved},
	kwHaving:    {"having", fReserved},
	kwGroup:     {"group", fReserved},
	kwOrder:     {"order", fReserved},
	kwLimit:     {"limit", fReserved},
	kwOffset:    {"offset", fReserved},
	kwReturning: {"returning", fReserved},
	kwInto:      {"into", fReserved},
	kwAs:        {"as", fReserved},
	kwNot:       {"not", fReserved},
	kwIn:        {"in", fReserved},
	kwLike:      {"like", fReserved},
	kwIlike:     {"ilike", fReserved},
	kwSimilar:   {"similar", fReserved},
	kwBetween:   {"between", fReserved},
	kwAnd:       {"and", fReserved},
	kwIs:        {"is", fReserved},
	kwDistinct:  {"distinct", fReserved},
	kwAll:       {"all", fReserved},
	kwTable:     {"table", fReserved | fVerb},
	kwValues:    {"values", fReserved | fVerb},
	kwUnion:     {"union", fReserved},
	kwIntersect: {"intersect", fReserved},
	kwExcept:    {"except", fReserved},
	kwTrue:      {"true", fReserved | fValueLike},
	kwFalse:     {"false", fReserved | fValueLike},
	kwNull:      {"null", fReserved | fValueLike},
	kwDo:        {"do", fReserved},
	kwTo:        {"to", fReserved},
	kwIf:        {"if", 0},
	kwExists:    {"exists", fReserved},
	kwDatabase:  {"database", 0},
	kwSchema:    {"schema", 0},
	kwIndex:     {"index", 0},
	kwView:      {"view", 0},
	kwSequence:  {"sequence", 0},
	kwConflict:  {"conflict", 0},
	kwDefault:   {"default", fReserved},
	kwWindow:    {"window", fReserved},
	kwFetch:     {"fetch", fReserved | fVerb},
	kwAt:        {"at", 0},
	kwArray:     {"array", fReserved},
	kwInterval:  {"interval", fReserved},
}

// genericReserved are words that are never columns: operators spelled as
// words, niladic functions and clause noise.
var genericReserved = []string{
	"or", "case", "when", "then", "else", "any", "some", "escape",
	"asc", "desc", "nulls", "first", "last", "by", "collate", "cross", "inner", "left",
	"right", "full", "outer", "natural", "lateral", "only", "recursive", "materialized",
	"current_timestamp", "current_date", "current_time", "current_user", "current_role",
	"current_catalog", "current_schema", "session_user", "localtimestamp", "localtime",
	"user", "primary", "references", "check", "constraint", "unique", "foreign",
	"for", "of", "nowait", "locked", "zone", "over", "partition", "filter", "within",
	"symmetric", "asymmetric", "unknown", "returning", "placing", "both", "leading", "trailing",
	"cast", "notnull", "isnull", "overlaps", "offset",
}

// genericVerbs start statements but need no special handling.
var genericVerbs = []string{
	"begin", "commit", "rollback", "explain", "import", "export", "backup", "restore",
	"prepare", "execute", "deallocate", "discard", "declare", "close", "copy", "analyze",
	"comment", "reset", "release", "savepoint", "start", "use", "refresh", "cancel",
	"pause", "resume", "abort", "lock", "end", "reassign", "call", "do",
}

var (
	kwByWord  = map[string]kwID{}
	kwDefs    []kwDef
	kwVerbs   []string
	kwMaxLen  int
	errKwSize = "sqlfp: too many keywords for kwID"
)

func init() {
	kwDefs = append(kwDefs, namedKeywords[:]...)
	add := func(w string, f kwFlag) {
		if id, ok := kwByWord[w]; ok {
			kwDefs[id].flags |= f
			return
		}
		if len(kwDefs) > 255 {
			panic(errKwSize)
		}
		kwByWord[w] = kwID(len(kwDefs))
		kwDefs = append(kwDefs, kwDef{w, f})
	}
	for id, d := range namedKeywords {
		if d.word != "" {
			kwByWord[d.word] = kwID(id)
		}
	}
	for len(kwDefs) < int(kwGeneric)+1 {
		kwDefs = append(kwDefs, kwDef{})
	}
	for _, w := range genericReserved {
		add(w, fReserved)
	}
	for _, w := range genericVerbs {
		add(w, fVerb)
	}
	kwDefs[kwByWord["end"]].flags |= fValueLike | fReserved
	kwVerbs = make([]string, len(kwDefs))
	for i, d := range kwDefs {
		if d.flags&fVerb != 0 {
			kwVerbs[i] = strings.ToUpper(d.word)
		}
		kwMaxLen = max(kwMaxLen, len(d.word))
	}
	buildKwTable()
}

// lookupKeyword returns the keyword ID of a lower-cased word, or kwNone.
// It runs for every identifier the lexer sees, so it uses a collision-free
// table built at init (kwSlots) instead of the map: one multiply, one
// load and one short comparison.
func lookupKeyword(w []byte) kwID {
	if len(w) == 0 || len(w) > kwMaxLen {
		return kwNone
	}
	id := kwSlots[(kwKey(w)*kwMult)>>(64-kwTableBits)]
	if id != kwNone && kwDefs[id].word == string(w) {
		return id
	}
	return kwNone
}

// kwTableBits sizes kwSlots: 4096 one-byte slots for about 150 words,
// sparse enough that a collision-free multiplier is found in a few tries.
const kwTableBits = 12

var (
	kwSlots [1 << kwTableBits]kwID
	kwMult  uint64
)

// kwKey packs the length and a few bytes of a non-empty word (first two,
// middle, last two) into one word; keywords differ in it (buildKwTable
// checks).
func kwKey(w []byte) uint64 {
	n := len(w)
	return uint64(n) | uint64(w[0])<<8 | uint64(w[min(1, n-1)])<<16 | uint64(w[n/2])<<24 |
		uint64(w[max(n-2, 0)])<<32 | uint64(w[n-1])<<40
}

// buildKwTable finds a multiplier under which every keyword has its own
// slot of kwSlots. The candidates come from a fixed sequence, so the table
// is the same in every process.
func buildKwTable() {
	x := uint64(0x9E3779B97F4A7C15)
	for range 1 << 16 {
		x += 0x9E3779B97F4A7C15
		m := (x ^ x>>31) | 1
		var t [1 << kwTableBits]kwID
		ok := true
		for w, id := range kwByWord {
			h := (kwKey([]byte(w)) * m) >> (64 - kwTableBits)
			if t[h] != kwNone {
				ok = false
				break
			}
			t[h] = id
		}
		if ok {
			kwSlots, kwMult = t, m
			return
		}
	}
	panic("sqlfp: no collision-free keyword table")
}

func (k kwID) reserved() bool  { return k != kwNone && kwDefs[k].flags&fReserved != 0 }
func (k kwID) valueLike() bool { return k != kwNone && kwDefs[k].flags&fValueLike != 0 }
