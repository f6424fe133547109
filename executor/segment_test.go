package executor

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseSegment(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "", want: "0:1"},
		{in: "1/3", want: "0:1/3"},
		{in: "1/3:2/3", want: "1/3:2/3"},
		{in: "0.5:0.75", want: "1/2:3/4"},
		{in: "50%:75%", want: "1/2:3/4"},
		{in: "2/4:75%", want: "1/2:3/4"},
		{in: "25%", want: "0:1/4"},
		{in: "0:1", want: "0:1"},
		{in: "0.2:2/3", want: "1/5:2/3"},
		{in: "2/3:1/3", err: "segment start(0.67) must be less than its end(0.33)"},
		{in: "1/2:1/2", err: "must be less than its end"},
		{in: "-1/2:1/2", err: "segment start value must be at least 0 but was -0.50"},
		{in: "0:3/2", err: "segment end value can't be more than 1 but was 1.50"},
		{in: "0", err: "segment start(0.00) must be less than its end(0.00)"},
		{in: "abc", err: "'abc' is not a valid percentage, decimal, fraction or interval value"},
		{in: "12.5%", err: "'12.5%' is not a valid percentage"},
		{in: "1/0", err: "'1/0' is not a valid"},
		{in: "x:1", err: "'x' is not a valid"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			s, err := ParseSegment(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseSegment(%q) = %v, %v; want error %q", tc.in, s, err, tc.err)
				}
				return
			}
			if err != nil || s.String() != tc.want {
				t.Fatalf("ParseSegment(%q) = %v, %v; want %s", tc.in, s, err, tc.want)
			}
		})
	}
}

func TestParseSequence(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "", want: ""},
		{in: "0,1/3,2/3,1", want: "0,1/3,2/3,1"},
		{in: "0, 25%, 0.5, 1", want: "0,1/4,1/2,1"},
		{in: "1/4,1/2", want: "1/4,1/2"},
		{in: "0", err: "at least 2 points are needed for an execution segment sequence, 1 given"},
		{in: "0,1/2,1/3", err: "must be less than its end"},
		{in: "0,1/2,1/2,1", err: "must be less than its end"},
		{in: "0,2", err: "can't be more than 1"},
		{in: "0,x", err: "'x' is not a valid"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			s, err := ParseSequence(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseSequence(%q) = %v, %v; want error %q", tc.in, s, err, tc.err)
				}
				return
			}
			if err != nil || s.String() != tc.want {
				t.Fatalf("ParseSequence(%q) = %v, %v; want %s", tc.in, s, err, tc.want)
			}
		})
	}
}

func mustTuple(t testing.TB, seg, seq string) *Tuple {
	t.Helper()
	g, err := ParseSegment(seg)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseSequence(seq)
	if err != nil {
		t.Fatal(err)
	}
	tu, err := NewTuple(g, q)
	if err != nil {
		t.Fatal(err)
	}
	return tu
}

func TestNewTupleErrors(t *testing.T) {
	third := Segment{From: big.NewRat(1, 3), To: big.NewRat(2, 3)}
	half := Segment{From: big.NewRat(1, 2), To: big.NewRat(1, 1)}
	for _, tc := range []struct {
		name string
		seg  Segment
		seq  Sequence
		err  string
	}{
		{"not in the sequence", third, Sequence{{ratZero, big.NewRat(1, 2)}, half}, "couldn't find segment 1/3:2/3 in sequence 0,1/2,1"},
		{"whole test, partial sequence", WholeSegment(), Sequence{{ratZero, big.NewRat(1, 2)}, half}, "couldn't find segment 0:1"},
		{"gap", half, Sequence{{ratZero, big.NewRat(1, 3)}, half}, "the start value 1/2 of segment #1 must be equal to the end value of the previous one, but it is 1/3"},
		{"too fine", Segment{ratZero, big.NewRat(123456789, 1000000000)}, nil, "common denominator over 1000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewTuple(tc.seg, tc.seq); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("NewTuple = %v; want %q", err, tc.err)
			}
		})
	}
}

// TestScaleThirds: k6 gives 4+3+3 for 10 VUs split in thirds with the sequence. Without
// it, each segment is striped against the pieces around it (0:1/3 against 1/3:1, which
// is larger and goes first), and the shares need not add up: 3+3+3, as in k6.
func TestScaleThirds(t *testing.T) {
	for _, tc := range []struct {
		seq  string
		want []int64
	}{{"0,1/3,2/3,1", []int64{4, 3, 3}}, {"", []int64{3, 3, 3}}} {
		var got []int64
		for _, seg := range []string{"0:1/3", "1/3:2/3", "2/3:1"} {
			got = append(got, mustTuple(t, seg, tc.seq).Scale(10))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("sequence %q: 10 VUs in thirds = %v; want %v", tc.seq, got, tc.want)
		}
	}
}

// TestScaleTable is k6's documented example: 50%, 25%, 25% scale 1..12 as below and
// stripe 0,2,4,... / 1,5,9,... / 3,7,11,...
func TestScaleTable(t *testing.T) {
	const seq = "0,1/2,3/4,1"
	for _, tc := range []struct {
		seg    string
		scaled []int64 // of 1..12
		global []int64 // the first elements
	}{
		{"0:1/2", []int64{1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6}, []int64{0, 2, 4, 6, 8, 10}},
		{"1/2:3/4", []int64{0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3}, []int64{1, 5, 9, 13}},
		{"3/4:1", []int64{0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3}, []int64{3, 7, 11, 15}},
	} {
		tu := mustTuple(t, tc.seg, seq)
		var scaled, global []int64
		for v := int64(1); v <= 12; v++ {
			scaled = append(scaled, tu.Scale(v))
		}
		for n := range int64(len(tc.global)) {
			global = append(global, tu.Global(n))
		}
		if !slices.Equal(scaled, tc.scaled) || !slices.Equal(global, tc.global) {
			t.Errorf("%s: Scale(1..12) = %v, Global = %v; want %v, %v", tc.seg, scaled, global, tc.scaled, tc.global)
		}
	}
}

func TestWholeTuple(t *testing.T) {
	for _, tu := range []*Tuple{nil, mustTuple(t, "", ""), mustTuple(t, "0:1", "0,1")} {
		if !tu.Whole() || tu.Scale(7) != 7 || tu.Global(5) != 5 || tu.Percent() != 100 {
			t.Errorf("%v is not the whole test", tu)
		}
		if r, ok := tu.Resegment(3); !ok || r != tu {
			t.Errorf("whole Resegment(3) = %v, %v", r, ok)
		}
	}
	if p := mustTuple(t, "1/3:2/3", "").Percent(); fmt.Sprintf("%.2f", p) != "33.33" {
		t.Errorf("Percent = %v", p)
	}
}

// randomSequence is a full sequence of 1..6 segments whose points are fractions with
// denominators up to 12, decimals or percentages.
func randomSequence(r *rand.Rand) Sequence {
	n := 1 + r.IntN(6)
	points := map[string]*big.Rat{}
	for len(points) < n-1 {
		var p *big.Rat
		switch r.IntN(3) {
		case 0:
			d := int64(2 + r.IntN(11))
			p = big.NewRat(1+r.Int64N(d-1), d)
		case 1:
			p = big.NewRat(1+r.Int64N(999), 1000)
		default:
			p = big.NewRat(1+r.Int64N(99), 100)
		}
		points[p.RatString()] = p
	}
	rs := []*big.Rat{ratZero, ratOne}
	for _, p := range points {
		rs = append(rs, p)
	}
	slices.SortFunc(rs, func(a, b *big.Rat) int { return a.Cmp(b) })
	var seq Sequence
	for i := 1; i < len(rs); i++ {
		seq = append(seq, Segment{rs[i-1], rs[i]})
	}
	return seq
}

// TestSharesPartition is the property execution segments exist for: for many sequences
// and values, the segments' shares add up to the whole, each share is value·length give or take the number of segments (k6's striping is greedy, not
// optimal), shares only grow by one element at a time, the stripes of all segments
// cover every element exactly once, and the shares of a quantity re-cut by another
// (shared-iterations' iterations by its VUs) add up too.
func TestSharesPartition(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 3))
	values := []int64{0, 1, 2, 3, 5, 7, 10, 11, 12, 99, 100, 101, 997, 1000, 12345, 1_000_000, 1<<40 + 17}
	for range 300 {
		seq := randomSequence(r)
		tuples := make([]*Tuple, len(seq))
		for k, g := range seq {
			tu, err := NewTuple(g, seq)
			if err != nil {
				t.Fatalf("%s in %s: %v", g, seq, err)
			}
			tuples[k] = tu
		}
		for _, v := range values {
			var sum int64
			for _, tu := range tuples {
				s := tu.Scale(v)
				sum += s
				exact := new(big.Rat).Mul(big.NewRat(v, 1), tu.Segment().Len())
				diff := new(big.Rat).Sub(big.NewRat(s, 1), exact)
				if diff.Abs(diff).Cmp(big.NewRat(int64(len(seq)), 1)) >= 0 {
					t.Fatalf("%s in %s: Scale(%d) = %d, far from %s", tu.Segment(), seq, v, s, exact.FloatString(3))
				}
			}
			if sum != v {
				t.Fatalf("sequence %s: shares of %d add up to %d", seq, v, sum)
			}
		}
		// Growth by one, and the stripes' union, over the first elements.
		const n = 300
		owner := make([]int, n)
		for i := range owner {
			owner[i] = -1
		}
		for k, tu := range tuples {
			for m := int64(0); ; m++ {
				g := tu.Global(m)
				if g >= n {
					break
				}
				if owner[g] != -1 {
					t.Fatalf("sequence %s: element %d is both segment %d's and %d's", seq, g, owner[g], k)
				}
				owner[g] = k
				if tu.Scale(g) != m || tu.Scale(g+1) != m+1 {
					t.Fatalf("sequence %s: segment %d's element %d is global %d but Scale(%d) = %d", seq, k, m, g, g+1, tu.Scale(g+1))
				}
			}
		}
		for v := int64(1); v < n; v++ {
			grew := 0
			for _, tu := range tuples {
				switch tu.Scale(v) - tu.Scale(v-1) {
				case 0:
				case 1:
					grew++
				default:
					t.Fatalf("sequence %s: a share jumped from %d to %d", seq, v-1, v)
				}
			}
			if grew != 1 || owner[v-1] == -1 {
				t.Fatalf("sequence %s: element %d owned %d times", seq, v-1, grew)
			}
		}
		for _, vus := range []int64{1, 2, 3, 7, 10, 64} {
			for _, iters := range []int64{1, 10, 11, 100, 1001} {
				var sum int64
				for _, tu := range tuples {
					if rt, ok := tu.Resegment(vus); ok {
						sum += rt.Scale(iters)
					} else if tu.Scale(vus) != 0 {
						t.Fatalf("sequence %s: %s has %d of %d VUs but no re-cut share", seq, tu.Segment(), tu.Scale(vus), vus)
					}
				}
				if sum != iters {
					t.Fatalf("sequence %s: %d iterations re-cut by %d VUs add up to %d", seq, iters, vus, sum)
				}
			}
		}
	}
}

// splitPlans returns scenario raw's plans on each segment of seq.
func splitPlans(t *testing.T, raw, seq string) (whole Plan, parts []Plan) {
	t.Helper()
	c, err := ParseScenario("s", json.RawMessage(raw))
	if err != nil {
		t.Fatal(err)
	}
	whole = c.Plan()
	q, err := ParseSequence(seq)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range q {
		tu, err := NewTuple(g, q)
		if err != nil {
			t.Fatal(err)
		}
		SetSegment([]Config{c}, tu)
		parts = append(parts, c.Plan())
	}
	return whole, parts
}

// TestSegmentPlans: every executor split 3 (and 4) ways gives plans whose VUs, iterations
// and arrival-rate starts add up to the whole test's, as literals.
func TestSegmentPlans(t *testing.T) {
	const thirds = "0,1/3,2/3,1"
	t.Run("constant-vus", func(t *testing.T) {
		_, ps := splitPlans(t, `{"executor":"constant-vus","vus":10,"duration":"5s"}`, thirds)
		for i, want := range []int{4, 3, 3} {
			if ps[i].MaxVUs != want || ps[i].VUsAt(0) != want || ps[i].Duration != 5*time.Second || ps[i].Idle {
				t.Errorf("segment %d: %+v; want %d VUs", i, ps[i], want)
			}
		}
		_, ps = splitPlans(t, `{"executor":"constant-vus","vus":1,"duration":"5s"}`, thirds)
		if ps[0].MaxVUs != 1 || !ps[1].Idle || !ps[2].Idle {
			t.Errorf("1 VU in thirds: %+v", ps)
		}
	})
	t.Run("per-vu-iterations", func(t *testing.T) {
		_, ps := splitPlans(t, `{"executor":"per-vu-iterations","vus":5,"iterations":3}`, thirds)
		for i, want := range []int{2, 2, 1} {
			if ps[i].MaxVUs != want || ps[i].PerVUIterations != 3 {
				t.Errorf("segment %d: %+v; want %d VUs × 3", i, ps[i], want)
			}
		}
	})
	t.Run("shared-iterations", func(t *testing.T) {
		_, ps := splitPlans(t, `{"executor":"shared-iterations","vus":5,"iterations":100}`, thirds)
		// 5 VUs are 2+2+1; the iterations follow the VUs: the sequence re-cut to 2/5,
		// 2/5, 1/5.
		for i, want := range []struct {
			vus int
			it  int64
		}{{2, 40}, {2, 40}, {1, 20}} {
			if ps[i].MaxVUs != want.vus || ps[i].SharedIterations != want.it {
				t.Errorf("segment %d: %d VUs, %d iterations; want %+v", i, ps[i].MaxVUs, ps[i].SharedIterations, want)
			}
		}
		_, ps = splitPlans(t, `{"executor":"shared-iterations","vus":2,"iterations":7}`, thirds)
		if ps[0].SharedIterations+ps[1].SharedIterations != 7 || !ps[2].Idle || ps[0].Idle || ps[1].Idle {
			t.Errorf("2 VUs, 7 iterations in thirds: %+v", ps)
		}
	})
	t.Run("ramping-vus", func(t *testing.T) {
		whole, ps := splitPlans(t, `{"executor":"ramping-vus","startVUs":1,"stages":[{"duration":"6s","target":7},{"duration":"3s","target":0}],"gracefulRampDown":"0s"}`, thirds)
		// The whole test adds a VU each second to 7, then removes one every 3/7 s; the
		// thirds own the 1st, 4th, 7th VU, the 2nd and 5th, the 3rd and 6th.
		down := func(k int64) time.Duration { return 6*time.Second + time.Duration(k*3e9/7) }
		want := [][]Step{
			{{0, 1}, {3 * time.Second, 2}, {6 * time.Second, 3}, {down(1), 2}, {down(4), 1}, {9 * time.Second, 0}},
			{{0, 0}, {1 * time.Second, 1}, {4 * time.Second, 2}, {down(3), 1}, {down(6), 0}},
			{{0, 0}, {2 * time.Second, 1}, {5 * time.Second, 2}, {down(2), 1}, {down(5), 0}},
		}
		for i := range ps {
			if !slices.Equal(ps[i].Steps, want[i]) || ps[i].MaxVUs != 3-min(i, 1) {
				t.Errorf("segment %d: %v (max %d); want %v", i, ps[i].Steps, ps[i].MaxVUs, want[i])
			}
		}
		for off := time.Duration(0); off <= 10*time.Second; off += 250 * time.Millisecond {
			if s := ps[0].VUsAt(off) + ps[1].VUsAt(off) + ps[2].VUsAt(off); s != whole.VUsAt(off) {
				t.Errorf("at %s the segments run %d VUs, the whole test %d", off, s, whole.VUsAt(off))
			}
		}
	})
	for _, tc := range []struct{ name, raw string }{
		{"constant-arrival-rate", `{"executor":"constant-arrival-rate","rate":10,"timeUnit":"1s","duration":"3s","preAllocatedVUs":4,"maxVUs":10}`},
		{"ramping-arrival-rate", `{"executor":"ramping-arrival-rate","startRate":2,"timeUnit":"1s","preAllocatedVUs":5,"maxVUs":7,"stages":[{"duration":"2s","target":20},{"duration":"1s","target":20},{"duration":"2s","target":0}]}`},
		{"rate below one per second", `{"executor":"constant-arrival-rate","rate":1,"timeUnit":"3s","duration":"30s","preAllocatedVUs":3}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, seq := range []string{thirds, "0,1/4,1/2,3/4,1", "0,0.1,0.7,1"} {
				whole, ps := splitPlans(t, tc.raw, seq)
				var want []time.Duration
				for n := range whole.Starts() {
					off, _ := whole.StartOffset(n)
					want = append(want, off)
				}
				var got []time.Duration
				var vus, pre int
				for _, p := range ps {
					vus += p.MaxVUs
					pre += p.PreAllocatedVUs
					if p.Idle {
						if p.Starts() != 0 && p.MaxVUs != 0 {
							t.Errorf("%s: an idle segment has %d starts", seq, p.Starts())
						}
						continue
					}
					prev := time.Duration(-1)
					for n := range p.Starts() {
						off, ok := p.StartOffset(n)
						if !ok || off < prev {
							t.Fatalf("%s: start %d at %s (ok %v) after %s", seq, n, off, ok, prev)
						}
						prev = off
						got = append(got, off)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s: the segments start %d iterations, the whole test %d (or at other times)", seq, len(got), len(want))
				}
				if vus != whole.MaxVUs || pre != whole.PreAllocatedVUs {
					t.Errorf("%s: VUs %d/%d, want %d/%d", seq, pre, vus, whole.PreAllocatedVUs, whole.MaxVUs)
				}
			}
		})
	}
}

func TestSegmentDescribe(t *testing.T) {
	tu := mustTuple(t, "0:1/3", "0,1/3,2/3,1")
	for _, tc := range []struct{ raw, want string }{
		{`{"executor":"constant-vus","vus":10,"duration":"5s"}`, "4 looping VUs for 5s"},
		{`{"executor":"per-vu-iterations","vus":10,"iterations":2}`, "2 iterations for each of 4 VUs"},
		{`{"executor":"shared-iterations","vus":10,"iterations":100}`, "40 iterations shared among 4 VUs"},
		{`{"executor":"ramping-vus","stages":[{"duration":"5s","target":10}]}`, "Up to 4 looping VUs for 5s over 1 stages"},
		{`{"executor":"constant-arrival-rate","rate":30,"duration":"5s","preAllocatedVUs":3,"maxVUs":10}`, "10.00 iterations/s for 5s (maxVUs: 1-4,"},
		{`{"executor":"ramping-arrival-rate","preAllocatedVUs":10,"stages":[{"duration":"5s","target":60}]}`, "Up to 20.00 iterations/s for 5s over 1 stages (maxVUs: 4,"},
	} {
		c, err := ParseScenario("s", json.RawMessage(tc.raw))
		if err != nil {
			t.Fatal(err)
		}
		SetSegment([]Config{c}, tu)
		if d := c.Describe(); !strings.HasPrefix(d, tc.want) {
			t.Errorf("%s: %q; want prefix %q", tc.raw, d, tc.want)
		}
	}
}

func BenchmarkNewTuple(b *testing.B) {
	b.ReportAllocs()
	g, _ := ParseSegment("1/3:2/3")
	q, _ := ParseSequence("0,1/3,2/3,1")
	for b.Loop() {
		if _, err := NewTuple(g, q); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzSegments: any segment and sequence either fail to parse or round-trip through their
// k6 form, and, when the segment is in the sequence, the shares of every segment of the
// sequence add up to the value.
func FuzzSegments(f *testing.F) {
	for _, s := range [][2]string{{"1/3:2/3", "0,1/3,2/3,1"}, {"25%", ""}, {"0.5:0.75", "0,0.5,0.75,1"}, {"", ""}, {"2/4:75%", "1/4,1/2,3/4"}} {
		f.Add(s[0], s[1], int64(10))
	}
	f.Fuzz(func(t *testing.T, seg, seq string, v int64) {
		g, err := ParseSegment(seg)
		if err != nil {
			return
		}
		if g2, err := ParseSegment(g.String()); err != nil || !g2.Equal(g) {
			t.Fatalf("%q → %s → %v, %v", seg, g, g2, err)
		}
		q, err := ParseSequence(seq)
		if err != nil {
			return
		}
		if q2, err := ParseSequence(q.String()); err != nil || q2.String() != q.String() {
			t.Fatalf("%q → %s → %v, %v", seq, q, q2, err)
		}
		tu, err := NewTuple(g, q)
		if err != nil {
			return
		}
		v &= 1<<40 - 1
		var sum int64
		for k := range tu.Sequence() {
			other, err := newTuple(tu.Sequence(), k)
			if err != nil {
				t.Fatal(err)
			}
			sum += other.Scale(v)
		}
		if sum != v {
			t.Fatalf("%s in %s: the shares of %d add up to %d", g, tu.Sequence(), v, sum)
		}
	})
}
