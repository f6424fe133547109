package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/executor"
)

// logo is pixelk6's banner art (the layout of k6's banner, our own drawing).
const logo = `
      _          _ _    __  
 _ __(_)_  _____| | | _/ /  
| '_ \ \ \/ / -_) | |/ / _ \ 
| .__/_|/_/\_\___|_|_|\_\___/
|_|                          
`

// banner prints the logo and k6's execution block: script, outputs (e.g. "json
// (out.json)") and scenarios.
func banner(w io.Writer, scriptPath string, outputNames []string, scenarios []executor.Config) {
	outs := "-"
	if len(outputNames) > 0 {
		outs = strings.Join(outputNames, ", ")
	}
	fmt.Fprint(w, logo)
	fmt.Fprintf(w, "\n\n     execution: local\n        script: %s\n        output: %s\n\n", scriptPath, outs)
	io.WriteString(w, scenariosBlock(scenarios))
	io.WriteString(w, "\n")
}

// scenariosBlock is the banner's scenarios line and one line per scenario.
func scenariosBlock(cs []executor.Config) string {
	vus, maxDur := executor.Summary(cs)
	plural := "s"
	if len(cs) == 1 {
		plural = ""
	}
	share := 100.0 // the execution segment's share of the test, as k6 shows it
	if len(cs) > 0 {
		share = cs[0].Base().Segment.Percent()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "     scenarios: (%.2f%%) %d scenario%s, %d max VUs, %s max duration (incl. graceful stop):\n",
		share, len(cs), plural, vus, maxDur.Round(time.Millisecond))
	for _, c := range cs {
		fmt.Fprintf(&b, "              * %s: %s\n", c.Base().Name, c.Describe())
	}
	return b.String()
}
