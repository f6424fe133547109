package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pixelk6/pixelk6/internal/logfmt"
	"github.com/pixelk6/pixelk6/output/webdashboard"
)

// webDashboardOuts returns the --out specs with "web-dashboard" added when
// K6_WEB_DASHBOARD (or the config file's webDashboard) is true and no --out names it
// already. A value that is not a boolean is an error naming it.
func webDashboardOuts(out []string, env map[string]string, o options) ([]string, error) {
	on := false
	if v, ok := env["K6_WEB_DASHBOARD"]; ok && v != "" {
		var err error
		if on, err = strconv.ParseBool(v); err != nil {
			return nil, fmt.Errorf("K6_WEB_DASHBOARD=%q: want true or false", v)
		}
	} else if raw, ok := o.Other["webDashboard"]; ok {
		if err := json.Unmarshal(raw, &on); err != nil {
			return nil, fmt.Errorf("webDashboard %s in the config file: want true or false", raw)
		}
	}
	if !on || slices.ContainsFunc(out, func(s string) bool { typ, _, _ := strings.Cut(s, "="); return typ == "web-dashboard" }) {
		return out, nil
	}
	return append(slices.Clip(out), "web-dashboard"), nil
}

// newWebDashboard builds the web dashboard of --out web-dashboard[=ARG].
func newWebDashboard(arg string, env map[string]string, scriptPath string, logger *logfmt.Logger) (*webdashboard.Dashboard, error) {
	cfg, err := webdashboard.ParseConfig(arg, env)
	if err != nil {
		return nil, err
	}
	title := filepath.Base(scriptPath)
	if scriptPath == "-" || scriptPath == "" {
		title = "stdin"
	}
	return webdashboard.New(cfg, webdashboard.Options{Title: title, Log: logger.Log}), nil
}
