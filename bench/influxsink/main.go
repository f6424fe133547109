// Command influxsink is the benchmark's stand-in for an InfluxDB 1.x server: it takes
// every write (/write, 204) and query (/query, 200) on a loopback port and discards the
// bodies, counting the lines, so that runner-bench.sh measures pixelk6's cost of the
// influxdb output rather than the database's on the same two cores. It prints
// "influxsink listening on http://ADDR" and, on SIGTERM or SIGINT, the points it took.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "influxsink:", err)
		os.Exit(1)
	}
}

func run() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var points, writes atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64<<10)
		n := int64(0)
		for {
			k, err := r.Body.Read(buf)
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		points.Add(n)
		writes.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/query", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"results":[{"statement_id":0}]}`)
	})
	srv := &http.Server{Handler: mux}
	fmt.Printf("influxsink listening on http://%s\n", l.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		_ = srv.Close()
	}()
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	fmt.Printf("influxsink: %d points in %d writes\n", points.Load(), writes.Load())
	return nil
}
