package metrics

import (
	"sort"
	"strings"
)

// TagSet is an immutable, sorted set of tags. It is comparable, so a (metric, TagSet) pair is
// a time series key usable in maps. The zero value is the empty set.
//
// Internally it is the canonical encoding "k1\x00v1\x00k2\x00v2\x00" with keys sorted.
type TagSet struct{ enc string }

// Tag is one key/value pair.
type Tag struct{ Key, Value string }

// NewTagSet builds a tag set from a map. Keys and values must not contain NUL bytes (they
// are dropped from keys and values if they do).
func NewTagSet(m map[string]string) TagSet {
	if len(m) == 0 {
		return TagSet{}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		writeTag(&b, k, m[k])
	}
	return TagSet{b.String()}
}

// TagsFromPairs builds a tag set from key, value, key, value, ... A later duplicate key wins.
func TagsFromPairs(kv ...string) TagSet {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return NewTagSet(m)
}

func writeTag(b *strings.Builder, k, v string) {
	b.WriteString(strings.ReplaceAll(k, "\x00", ""))
	b.WriteByte(0)
	b.WriteString(strings.ReplaceAll(v, "\x00", ""))
	b.WriteByte(0)
}

// Len returns the number of tags.
func (t TagSet) Len() int { return strings.Count(t.enc, "\x00") / 2 }

// IsEmpty reports whether the set has no tags.
func (t TagSet) IsEmpty() bool { return t.enc == "" }

// Each calls fn for every tag in key order until fn returns false.
func (t TagSet) Each(fn func(key, value string) bool) {
	s := t.enc
	for len(s) > 0 {
		i := strings.IndexByte(s, 0)
		k := s[:i]
		s = s[i+1:]
		j := strings.IndexByte(s, 0)
		v := s[:j]
		s = s[j+1:]
		if !fn(k, v) {
			return
		}
	}
}

// Get returns the value of key and whether it is set.
func (t TagSet) Get(key string) (string, bool) {
	var val string
	var found bool
	t.Each(func(k, v string) bool {
		if k == key {
			val, found = v, true
			return false
		}
		return k < key
	})
	return val, found
}

// Map returns the tags as a new map.
func (t TagSet) Map() map[string]string {
	m := make(map[string]string, t.Len())
	t.Each(func(k, v string) bool { m[k] = v; return true })
	return m
}

// Tags returns the tags in key order.
func (t TagSet) Tags() []Tag {
	out := make([]Tag, 0, t.Len())
	t.Each(func(k, v string) bool { out = append(out, Tag{k, v}); return true })
	return out
}

// With returns the set with key set to value (added or replaced).
func (t TagSet) With(key, value string) TagSet {
	var b strings.Builder
	b.Grow(len(t.enc) + len(key) + len(value) + 2)
	done := false
	t.Each(func(k, v string) bool {
		if !done && key <= k {
			writeTag(&b, key, value)
			done = true
			if k == key {
				return true
			}
		}
		writeTag(&b, k, v)
		return true
	})
	if !done {
		writeTag(&b, key, value)
	}
	return TagSet{b.String()}
}

// Merge returns the union of t and o; o's values win on equal keys.
func (t TagSet) Merge(o TagSet) TagSet {
	if o.IsEmpty() {
		return t
	}
	if t.IsEmpty() {
		return o
	}
	m := t.Map()
	o.Each(func(k, v string) bool { m[k] = v; return true })
	return NewTagSet(m)
}

// Without returns the set without key.
func (t TagSet) Without(key string) TagSet {
	if _, ok := t.Get(key); !ok {
		return t
	}
	var b strings.Builder
	t.Each(func(k, v string) bool {
		if k != key {
			writeTag(&b, k, v)
		}
		return true
	})
	return TagSet{b.String()}
}

// Contains reports whether every tag of sub is in t with the same value (submetric matching).
func (t TagSet) Contains(sub TagSet) bool {
	ok := true
	sub.Each(func(k, v string) bool {
		got, found := t.Get(k)
		ok = found && got == v
		return ok
	})
	return ok
}

// String returns the tags as "k1=v1,k2=v2", for messages.
func (t TagSet) String() string {
	var b strings.Builder
	t.Each(func(k, v string) bool {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
		return true
	})
	return b.String()
}
