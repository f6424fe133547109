package engine

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

// banner prints the logo and k6's execution block: script, outputs and scenarios.
func (r *run) banner() {
	w := r.cfg.Stdout
	outs := "-"
	if len(r.cfg.OutputNames) > 0 {
		outs = strings.Join(r.cfg.OutputNames, ", ")
	}
	fmt.Fprint(w, logo)
	fmt.Fprintf(w, "\n\n     execution: local\n        script: %s\n        output: %s\n\n", r.cfg.ScriptPath, outs)
	io.WriteString(w, scenariosBlock(r.cfg.Test.Scenarios))
	io.WriteString(w, "\n")
}

// scenariosBlock is the banner's scenarios line and one line per scenario.
func scenariosBlock(cs []executor.Config) string {
	vus, maxDur := executor.Summary(cs)
	plural := "s"
	if len(cs) == 1 {
		plural = ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "     scenarios: (100.00%%) %d scenario%s, %d max VUs, %s max duration (incl. graceful stop):\n",
		len(cs), plural, vus, maxDur.Round(time.Millisecond))
	for _, c := range cs {
		fmt.Fprintf(&b, "              * %s: %s\n", c.Base().Name, c.Describe())
	}
	return b.String()
}
