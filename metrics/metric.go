package metrics

import (
	"fmt"
	"regexp"
	"sort"
	"sync"
)

// MetricType is the kind of a metric, as k6 names it in its output.
type MetricType uint8

// The four k6 metric types.
const (
	Counter MetricType = iota + 1 // sums values; aggregations count, rate
	Gauge                         // keeps the last value; aggregation value (and min, max here)
	Rate                          // fraction of non-zero values; aggregation rate
	Trend                         // keeps every value; avg, min, max, med, p(N)
)

var metricTypeNames = [...]string{Counter: "counter", Gauge: "gauge", Rate: "rate", Trend: "trend"}

// String returns k6's name for the type ("counter", "gauge", "rate", "trend").
func (t MetricType) String() string {
	if int(t) < len(metricTypeNames) && t != 0 {
		return metricTypeNames[t]
	}
	return fmt.Sprintf("MetricType(%d)", uint8(t))
}

// ParseMetricType parses k6's name of a metric type.
func ParseMetricType(s string) (MetricType, error) {
	for i, n := range metricTypeNames {
		if i != 0 && n == s {
			return MetricType(i), nil
		}
	}
	return 0, fmt.Errorf("unknown metric type %q (want counter, gauge, rate or trend)", s)
}

// ValueType says what a metric's values are: k6's "contains" field.
type ValueType uint8

// The k6 value types.
const (
	Default ValueType = iota // plain numbers
	Time                     // milliseconds
	Data                     // bytes
)

var valueTypeNames = [...]string{Default: "default", Time: "time", Data: "data"}

// String returns k6's name for the value type ("default", "time", "data").
func (v ValueType) String() string {
	if int(v) < len(valueTypeNames) {
		return valueTypeNames[v]
	}
	return fmt.Sprintf("ValueType(%d)", uint8(v))
}

// ParseValueType parses k6's name of a value type.
func ParseValueType(s string) (ValueType, error) {
	for i, n := range valueTypeNames {
		if n == s {
			return ValueType(i), nil
		}
	}
	return 0, fmt.Errorf("unknown value type %q (want default, time or data)", s)
}

// Metric is a metric definition. Metrics are created through a Registry and compared by
// pointer; their fields never change after creation.
type Metric struct {
	Name     string
	Type     MetricType
	Contains ValueType
	// ID is the metric's index in its registry, 0-based, for slice-indexed lookups.
	ID int
}

// metricNameRE is k6's rule for metric names: 1-128 characters of letters, digits and
// underscores, not starting with a digit (k6 also accepts a few more characters; so do we).
var metricNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.\-]{0,127}$`)

// ValidMetricName reports whether name is acceptable as a metric name.
func ValidMetricName(name string) bool { return metricNameRE.MatchString(name) }

// Registry holds the metrics of one test run. It is safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	byName  map[string]*Metric
	ordered []*Metric
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: make(map[string]*Metric)} }

// NewMetric returns the metric called name, creating it if needed. Asking again for an
// existing name with the same type and value type returns the same *Metric; a different type
// is an error, as in k6.
func (r *Registry) NewMetric(name string, t MetricType, contains ValueType) (*Metric, error) {
	if !ValidMetricName(name) {
		return nil, fmt.Errorf("invalid metric name %q: use 1-128 letters, digits or underscores, not starting with a digit", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.byName[name]; ok {
		if m.Type != t || m.Contains != contains {
			return nil, fmt.Errorf("metric %q already exists as a %s of %s values, not a %s of %s values",
				name, m.Type, m.Contains, t, contains)
		}
		return m, nil
	}
	m := &Metric{Name: name, Type: t, Contains: contains, ID: len(r.ordered)}
	r.byName[name] = m
	r.ordered = append(r.ordered, m)
	return m, nil
}

// MustNewMetric is NewMetric for built-in metrics whose definitions cannot conflict.
func (r *Registry) MustNewMetric(name string, t MetricType, contains ValueType) *Metric {
	m, err := r.NewMetric(name, t, contains)
	if err != nil {
		panic(err)
	}
	return m
}

// Get returns the metric called name, or nil.
func (r *Registry) Get(name string) *Metric {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byName[name]
}

// All returns every metric, sorted by name.
func (r *Registry) All() []*Metric {
	r.mu.RLock()
	out := append([]*Metric(nil), r.ordered...)
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Len returns the number of metrics; IDs are in [0, Len()).
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.ordered)
}
