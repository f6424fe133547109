package executor

import (
	"fmt"
	"strconv"
	"strings"
)

// Stage is one ramping-vus stage: go linearly to Target VUs over Duration.
type Stage struct {
	Duration Duration `json:"duration"`
	Target   int64    `json:"target"`
}

// ParseStages parses --stage values: "DURATION:TARGET" items, comma-separated, e.g.
// "30s:10,1m:20,10s:0". The target defaults to 0 when omitted after the colon ("30s:").
func ParseStages(s string) ([]Stage, error) {
	var out []Stage
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("invalid stage %q in %q: empty stage (want DURATION:TARGET, e.g. 30s:10)", item, s)
		}
		ds, ts, found := strings.Cut(item, ":")
		if !found {
			return nil, fmt.Errorf("invalid stage %q: want DURATION:TARGET, e.g. 30s:10", item)
		}
		d, err := ParseDuration(ds)
		if err != nil {
			return nil, fmt.Errorf("invalid stage %q: %w", item, err)
		}
		var target int64
		if ts = strings.TrimSpace(ts); ts != "" {
			target, err = strconv.ParseInt(ts, 10, 64)
			if err != nil || target < 0 || target > maxVUs {
				return nil, fmt.Errorf("invalid stage %q: target %q must be a whole number of VUs in [0, %d]", item, ts, maxVUs)
			}
		}
		out = append(out, Stage{Duration: Duration(d), Target: target})
	}
	return out, nil
}

// maxVUs bounds VU counts so that plans stay small and arithmetic cannot overflow.
const maxVUs = 1_000_000
