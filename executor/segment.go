package executor

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// Segment is k6's execution segment: the part (From, To] of a test one instance runs,
// with 0 ≤ From < To ≤ 1. Several instances whose segments partition (0, 1] run the whole
// test together.
type Segment struct {
	From, To *big.Rat
}

var (
	ratZero = big.NewRat(0, 1)
	ratOne  = big.NewRat(1, 1)
)

// WholeSegment is 0:1, the whole test.
func WholeSegment() Segment { return Segment{From: ratZero, To: ratOne} }

// NewSegment checks 0 ≤ from < to ≤ 1 (k6's rules and wording).
func NewSegment(from, to *big.Rat) (Segment, error) {
	if from.Sign() < 0 {
		return Segment{}, fmt.Errorf("segment start value must be at least 0 but was %s", from.FloatString(2))
	}
	if from.Cmp(to) >= 0 {
		return Segment{}, fmt.Errorf("segment start(%s) must be less than its end(%s)", from.FloatString(2), to.FloatString(2))
	}
	if to.Cmp(ratOne) > 0 {
		return Segment{}, fmt.Errorf("segment end value can't be more than 1 but was %s", to.FloatString(2))
	}
	return Segment{From: from, To: to}, nil
}

// parseRat reads one end of a segment as k6 does: a whole-number percentage ("25%"), a
// decimal ("0.25") or a fraction ("1/4").
func parseRat(s string) (*big.Rat, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		n, ok := new(big.Int).SetString(p, 10)
		if !ok {
			return nil, fmt.Errorf("'%s' is not a valid percentage", s)
		}
		return new(big.Rat).SetFrac(n, big.NewInt(100)), nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("'%s' is not a valid percentage, decimal, fraction or interval value", s)
	}
	return r, nil
}

// ParseSegment parses --execution-segment (and options.executionSegment): "FROM:TO"
// ("1/3:2/3", "0.5:0.75", "50%:75%", mixed forms too), or one value V meaning 0:V ("1/3",
// "25%"); "" is the whole test.
func ParseSegment(s string) (Segment, error) {
	if s == "" {
		return WholeSegment(), nil
	}
	from := ratZero
	to := s
	if f, t, ok := strings.Cut(s, ":"); ok {
		r, err := parseRat(f)
		if err != nil {
			return Segment{}, err
		}
		from, to = r, t
	}
	r, err := parseRat(to)
	if err != nil {
		return Segment{}, err
	}
	return NewSegment(from, r)
}

// Len is To − From.
func (s Segment) Len() *big.Rat { return new(big.Rat).Sub(s.To, s.From) }

// Equal reports whether s and o are the same segment.
func (s Segment) Equal(o Segment) bool { return s.From.Cmp(o.From) == 0 && s.To.Cmp(o.To) == 0 }

// String is k6's form, "FROM:TO" in lowest terms ("1/3:2/3", "0:1").
func (s Segment) String() string { return s.From.RatString() + ":" + s.To.RatString() }

// Sequence is k6's execution segment sequence: contiguous segments, each starting where
// the previous one ends. It need not cover (0, 1]; NewTuple fills the gaps.
type Sequence []Segment

// ParseSequence parses --execution-segment-sequence (and
// options.executionSegmentSequence): k6's comma-separated points, "0,1/3,2/3,1" being
// the three segments 0:1/3, 1/3:2/3 and 2/3:1; each point as in ParseSegment. "" is no
// sequence.
func ParseSequence(s string) (Sequence, error) {
	if s == "" {
		return nil, nil
	}
	points := strings.Split(s, ",")
	if len(points) < 2 {
		return nil, fmt.Errorf("at least 2 points are needed for an execution segment sequence, %d given", len(points))
	}
	var seq Sequence
	var prev *big.Rat
	for i, p := range points {
		r, err := parseRat(strings.TrimSpace(p))
		if err != nil {
			return nil, err
		}
		if i > 0 {
			g, err := NewSegment(prev, r)
			if err != nil {
				return nil, err
			}
			seq = append(seq, g)
		}
		prev = r
	}
	return seq, nil
}

// String is k6's form: the points, "0,1/3,2/3,1".
func (q Sequence) String() string {
	if len(q) == 0 {
		return ""
	}
	pts := []string{q[0].From.RatString()}
	for _, g := range q {
		pts = append(pts, g.To.RatString())
	}
	return strings.Join(pts, ",")
}

// filled returns q with the gaps before its start and after its end filled; an empty
// sequence becomes the pieces around seg (or 0:1).
func (q Sequence) filled(seg Segment) Sequence {
	if len(q) == 0 {
		q = Sequence{seg}
	}
	out := make(Sequence, 0, len(q)+2)
	if q[0].From.Sign() != 0 {
		out = append(out, Segment{From: ratZero, To: q[0].From})
	}
	out = append(out, q...)
	if last := q[len(q)-1].To; last.Cmp(ratOne) != 0 {
		out = append(out, Segment{From: last, To: ratOne})
	}
	return out
}

// MaxStripe bounds the least common denominator of a sequence's segment lengths (the
// length of its stripe pattern, held in memory: 8 bytes an element): six decimal places
// (0.123456) are accepted, 0.1234567 needs 10⁷ and is refused.
const MaxStripe = 1_000_000

// Tuple is one segment of a full sequence with the sequence's striping: the rule by which
// every whole quantity of a test (VUs, iterations, arrival-rate starts) is dealt out
// among the segments so that the shares always add up to the whole.
//
// The striping, k6's: with L the least common denominator of the segments' lengths, each
// run of L consecutive elements (element i of a quantity, i = 0, 1, ...) gives every
// segment of length m/L exactly m elements. Within a run, element i goes to the first
// segment, in order of decreasing length (ties in sequence order), that has taken c
// elements so far with i·m ≥ c·L — the segment "due" soonest. Segment k's share of a
// quantity v is how many of the elements 0..v−1 are its; its n-th element is Global(n).
// So 0:1/3, 1/3:2/3, 2/3:1 take the elements 0,3,6,9,..., 1,4,7,... and 2,5,8,...: 10
// VUs are 4+3+3.
type Tuple struct {
	seq   Sequence
	index int
	lcd   int64
	// pos are the elements of each segment within one run of lcd, ascending.
	pos [][]int64
}

// NewTuple returns segment seg of sequence seq (seq filled to cover (0, 1]; with no
// sequence, seq is the pieces around seg). seg must be one of the sequence's segments.
func NewTuple(seg Segment, seq Sequence) (*Tuple, error) {
	if seg.From == nil {
		seg = WholeSegment()
	}
	for i := 1; i < len(seq); i++ {
		if seq[i].From.Cmp(seq[i-1].To) != 0 {
			return nil, fmt.Errorf("the start value %s of segment #%d must be equal to the end value of the previous one, but it is %s",
				seq[i].From.RatString(), i, seq[i-1].To.RatString())
		}
	}
	full := seq.filled(seg)
	index := -1
	for i, g := range full {
		if g.Equal(seg) {
			index = i
		}
	}
	if index < 0 {
		return nil, fmt.Errorf("couldn't find segment %s in sequence %s", seg, seq)
	}
	return newTuple(full, index)
}

// newTuple stripes a full sequence.
func newTuple(full Sequence, index int) (*Tuple, error) {
	lcd := big.NewInt(1)
	for _, g := range full {
		d := g.Len().Denom()
		gcd := new(big.Int).GCD(nil, nil, lcd, d)
		lcd.Mul(lcd, new(big.Int).Quo(d, gcd))
		if lcd.Cmp(big.NewInt(MaxStripe)) > 0 {
			return nil, fmt.Errorf("execution segment sequence %s: its segments' lengths need a common denominator over %d; use simpler fractions", full, MaxStripe)
		}
	}
	t := &Tuple{seq: full, index: index, lcd: lcd.Int64(), pos: make([][]int64, len(full))}
	// m[k]: segment k's elements per run of lcd.
	m := make([]int64, len(full))
	order := make([]int, len(full))
	for k, g := range full {
		l := g.Len()
		m[k] = new(big.Int).Quo(new(big.Int).Mul(l.Num(), lcd), l.Denom()).Int64()
		order[k] = k
		t.pos[k] = make([]int64, 0, m[k])
	}
	sort.SliceStable(order, func(a, b int) bool { return m[order[a]] > m[order[b]] })
	for i := range t.lcd {
		for _, k := range order {
			if c := int64(len(t.pos[k])); c < m[k] && i*m[k] >= c*t.lcd {
				t.pos[k] = append(t.pos[k], i)
				break
			}
		}
	}
	return t, nil
}

// Segment is the tuple's segment.
func (t *Tuple) Segment() Segment { return t.seq[t.index] }

// Sequence is the tuple's full sequence.
func (t *Tuple) Sequence() Sequence { return t.seq }

// Whole reports whether the tuple is the whole test (no segmentation).
func (t *Tuple) Whole() bool { return t == nil || len(t.seq) == 1 }

// Scale is the segment's share of v elements (v ≥ 0): the shares of all the sequence's
// segments add up to v, and each is within 1 of v·length.
func (t *Tuple) Scale(v int64) int64 {
	if t.Whole() {
		return v
	}
	return scaleIn(t.pos[t.index], t.lcd, v)
}

func scaleIn(pos []int64, lcd, v int64) int64 {
	rem := v % lcd
	return v/lcd*int64(len(pos)) + int64(sort.Search(len(pos), func(i int) bool { return pos[i] >= rem }))
}

// Global is the whole test's index of the segment's n-th element (n ≥ 0, 0-based).
func (t *Tuple) Global(n int64) int64 {
	if t.Whole() {
		return n
	}
	pos := t.pos[t.index]
	k := int64(len(pos))
	return n/k*t.lcd + pos[n%k]
}

// Resegment returns the tuple of the sequence re-cut by a quantity v ≥ 1 (k6 does it with
// shared-iterations' VUs and arrival-rate maxVUs): each segment's new length is its share
// of v over v, segments with no share dropped. false when this segment has no share of v.
func (t *Tuple) Resegment(v int64) (*Tuple, bool) {
	if t.Whole() || v%t.lcd == 0 {
		return t, v > 0
	}
	if v < 1 {
		return nil, false
	}
	var seq Sequence
	index := -1
	var prev int64
	for k := range t.seq {
		n := scaleIn(t.pos[k], t.lcd, v)
		if n == 0 {
			continue
		}
		if k == t.index {
			index = len(seq)
		}
		seq = append(seq, Segment{From: big.NewRat(prev, v), To: big.NewRat(prev+n, v)})
		prev += n
	}
	if index < 0 {
		return nil, false
	}
	nt, err := newTuple(seq, index)
	if err != nil { // unreachable: the new lengths' denominators divide v ≤ maxVUs
		return nil, false
	}
	return nt, true
}

// Percent is the segment's length in percent, for the banner's "(33.33%)".
func (t *Tuple) Percent() float64 {
	if t.Whole() {
		return 100
	}
	f, _ := t.Segment().Len().Float64()
	return f * 100
}
