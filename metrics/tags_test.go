package metrics

import "testing"

func TestTagSet(t *testing.T) {
	ts := NewTagSet(map[string]string{"b": "2", "a": "1", "c": "3"})
	if got := ts.String(); got != "a=1,b=2,c=3" {
		t.Fatalf("String = %q", got)
	}
	if v, ok := ts.Get("b"); !ok || v != "2" {
		t.Fatalf("Get(b) = %q, %v", v, ok)
	}
	if _, ok := ts.Get("z"); ok {
		t.Fatal("Get(z) found")
	}
	cases := []struct {
		name string
		got  TagSet
		want string
	}{
		{"with new first", ts.With("0", "x"), "0=x,a=1,b=2,c=3"},
		{"with new last", ts.With("d", "4"), "a=1,b=2,c=3,d=4"},
		{"with replace", ts.With("b", "9"), "a=1,b=9,c=3"},
		{"without", ts.Without("b"), "a=1,c=3"},
		{"merge", ts.Merge(TagsFromPairs("c", "7", "e", "5")), "a=1,b=2,c=7,e=5"},
		{"empty with", TagSet{}.With("k", "v"), "k=v"},
	}
	for _, c := range cases {
		if c.got.String() != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got.String(), c.want)
		}
	}
	if ts.With("b", "2") != ts {
		t.Error("With of an existing pair must give an equal set")
	}
	if !ts.Contains(TagsFromPairs("a", "1", "c", "3")) || ts.Contains(TagsFromPairs("a", "2")) {
		t.Error("Contains wrong")
	}
	if ts.Len() != 3 || !(TagSet{}).IsEmpty() {
		t.Error("Len/IsEmpty wrong")
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	m1, err := r.NewMetric("http_reqs", Counter, Default)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := r.NewMetric("http_reqs", Counter, Default)
	if err != nil || m1 != m2 {
		t.Fatalf("second NewMetric: %v, same=%v", err, m1 == m2)
	}
	if _, err := r.NewMetric("http_reqs", Trend, Time); err == nil {
		t.Fatal("conflicting type accepted")
	}
	if _, err := r.NewMetric("1bad", Counter, Default); err == nil {
		t.Fatal("bad name accepted")
	}
	if r.Get("http_reqs") != m1 || r.Len() != 1 {
		t.Fatal("Get/Len wrong")
	}
}
