package simulator_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/simulator"
)

// Start pixelsim in-process with a fixed 50 ms model latency, call it, and read the
// ground truth back.
func Example() {
	srv, err := simulator.New(simulator.Config{Latency: simulator.FixedLatency(50 * time.Millisecond)})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	res, err := http.Post(base+"/api/ai/pixel/infer", "application/json",
		strings.NewReader(`{"prompt":"I feel hopeless"}`))
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	st := srv.Stats()
	fmt.Println(res.StatusCode, st.InferTotal, st.Crisis["medium"])
	// Output: 200 1 1
}

// Label tells a test the answer pixelsim will give for a prompt.
func ExampleLabel() {
	crisis, bias := simulator.Label("Everything feels OVERWHELMING; man up, they say")
	fmt.Println(crisis.Detected, crisis.RiskLevel, crisis.Confidence)
	fmt.Println(bias.Detected, bias.Categories, bias.Score)
	// Output:
	// true low 0.55
	// true [gender] 0.6
}

func ExampleParseLatency() {
	for _, s := range []string{"0", "fixed:50ms", "lognormal:20ms,120ms"} {
		l, err := simulator.ParseLatency(s)
		fmt.Println(l.Median, l.P99, err)
	}
	// Output:
	// 0s 0s <nil>
	// 50ms 50ms <nil>
	// 20ms 120ms <nil>
}
