package pixel

import (
	"testing"

	"github.com/pixelk6/pixelk6/extension/pixel/pixelmetrics"
	"github.com/pixelk6/pixelk6/metrics"
)

// TestMetricSetFollowsContract: the extension registers every metric of the contract, with
// its type and unit, and no other.
func TestMetricSetFollowsContract(t *testing.T) {
	reg := metrics.NewRegistry()
	before := reg.Len()
	if _, err := newMetricSet(reg); err != nil {
		t.Fatal(err)
	}
	all := pixelmetrics.All()
	if got := reg.Len() - before; got != len(all) {
		t.Errorf("registered %d metrics, the contract has %d", got, len(all))
	}
	for _, d := range all {
		m := reg.Get(d.Name)
		if m == nil {
			t.Errorf("%s is not registered", d.Name)
			continue
		}
		if m.Type != d.Type || m.Contains != d.Contains {
			t.Errorf("%s registered as %v/%v, the contract says %v/%v", d.Name, m.Type, m.Contains, d.Type, d.Contains)
		}
	}
}
