package index

import "net/netip"

// Field names an indexed column: the store keeps postings (a sorted value
// dictionary with the rows of each value, rare values only by the blocks
// of their bucket) for each of them in every segment.
type Field uint8

const (
	FieldSrcAddr Field = 1
	FieldDstAddr Field = 2
	FieldSrcPort Field = 3
	FieldDstPort Field = 4
	FieldProto   Field = 5
)

// MatchOp is the kind of a Match node.
type MatchOp uint8

const (
	MatchAll       MatchOp = iota // every row (a term the index cannot answer)
	MatchNone                     // no row
	MatchAnd                      // rows in every Sub
	MatchOr                       // rows in any Sub
	MatchNot                      // rows not in Sub[0]; Sub[0] must be exact
	MatchAddrRange                // Field (an address field) in [AddrLo, AddrHi]
	MatchNumRange                 // Field (port or protocol) in [Lo, Hi]
)

// Match is the indexed part of a filter: a tree the planner turns into
// bitmap operations per segment. It selects a superset of the rows the full
// filter selects (postings themselves may answer with whole blocks for rare
// values); the filter itself is then checked per row. A MatchNot is
// only valid over an exact sub-tree (one without MatchAll standing in for
// an unindexed term), or the complement would drop matching rows; the
// query package builds trees that respect this.
type Match struct {
	Op     MatchOp
	Field  Field
	AddrLo netip.Addr // inclusive; same family as AddrHi
	AddrHi netip.Addr
	Lo, Hi uint32 // inclusive
	Sub    []*Match
}
