package output

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/k6file"
)

type csvConfig struct {
	fileName     string
	timeFormat   k6file.TimeFormat
	saveInterval time.Duration
}

// parseCSVConfig reads the csv output's argument ("FILE", or k6's "fileName=F,timeFormat=T,
// saveInterval=D" form) over the K6_CSV_* environment.
func parseCSVConfig(arg string, env map[string]string) (csvConfig, error) {
	cfg := csvConfig{fileName: "file.csv"}
	set := func(key, val, from string) error {
		switch key {
		case "fileName":
			cfg.fileName = val
		case "timeFormat":
			tf, err := k6file.ParseTimeFormat(val)
			if err != nil {
				return fmt.Errorf("%s: %w", from, err)
			}
			cfg.timeFormat = tf
		case "saveInterval":
			d, err := parseInterval(val)
			if err != nil {
				return fmt.Errorf("%s: invalid CSV save interval %q: %w", from, val, err)
			}
			cfg.saveInterval = d
		default:
			return fmt.Errorf("%s: unknown CSV option %q (want fileName, timeFormat or saveInterval)", from, key)
		}
		return nil
	}
	for _, ev := range [...][2]string{{"K6_CSV_FILENAME", "fileName"}, {"K6_CSV_TIME_FORMAT", "timeFormat"}, {"K6_CSV_SAVE_INTERVAL", "saveInterval"}} {
		if v := env[ev[0]]; v != "" {
			if err := set(ev[1], v, ev[0]); err != nil {
				return cfg, err
			}
		}
	}
	if arg == "" {
		return cfg, nil
	}
	if !strings.HasPrefix(arg, "fileName=") && !strings.HasPrefix(arg, "timeFormat=") && !strings.HasPrefix(arg, "saveInterval=") {
		cfg.fileName = arg // a plain file name, even one with '=' or ',' in it
		return cfg, nil
	}
	for _, kv := range strings.Split(arg, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return cfg, fmt.Errorf("--out csv=%s: option %q is not key=value", arg, kv)
		}
		if err := set(k, v, "--out csv="+arg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// parseInterval parses a Go duration ("1m45s") or a number of milliseconds.
func parseInterval(s string) (time.Duration, error) {
	if ms, err := strconv.ParseFloat(s, 64); err == nil {
		if ms <= 0 {
			return 0, fmt.Errorf("must be positive")
		}
		return time.Duration(ms * float64(time.Millisecond)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return d, nil
}
