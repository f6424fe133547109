package pixel

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestEchoChild is not a test: TestLoadFloor re-executes the test binary with
// PIXEL_ECHO_CHILD=1 to run a bare TCP acknowledger in its own process. For every 640-byte
// message read it writes 48 bytes back. It serves until its stdin closes.
func TestEchoChild(t *testing.T) {
	if os.Getenv("PIXEL_ECHO_CHILD") == "" {
		t.Skip("helper process for TestLoadFloor")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ECHO " + ln.Addr().String())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); _ = ln.Close() }()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Go(func() {
			defer c.Close()
			buf, ack := make([]byte, 640), make([]byte, 48)
			for {
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				if _, err := c.Write(ack); err != nil {
					return
				}
			}
		})
	}
}

// TestLoadFloor measures the floor under the load budget: the same traffic as
// TestLoadBudget's sessions (PIXEL_LOAD_SESSIONS connections, a 640-byte message every
// 20 ms each, a 48-byte answer to each) over bare TCP, with no WebSocket, no session
// set-up and no metrics, a reader and a writer goroutine per connection as in the stream
// client. It reports the CPU per message of both processes. PIXEL_LOAD=1 runs it.
func TestLoadFloor(t *testing.T) {
	if os.Getenv("PIXEL_LOAD") == "" {
		t.Skip("set PIXEL_LOAD=1 to run the load floor measurement")
	}
	conns := envInt("PIXEL_LOAD_SESSIONS", 200)
	secs := envInt("PIXEL_LOAD_SECONDS", 10)
	cmd := exec.Command(os.Args[0], "-test.run=^TestEchoChild$")
	cmd.Env = append(os.Environ(), "PIXEL_ECHO_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	addr := ""
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ECHO "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("echo child did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	const interval = 20 * time.Millisecond
	var sent, acked atomic.Int64
	stop := time.Now().Add(time.Duration(secs) * time.Second)
	var wg sync.WaitGroup
	cpu0, srv0, t0 := cpuTime(), procCPU(cmd.Process.Pid), time.Now()
	for i := range conns {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * interval / time.Duration(conns))
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			done := make(chan struct{})
			go func() { // the connection's reader; ends when c closes
				defer close(done)
				buf := make([]byte, 48)
				for {
					if _, err := io.ReadFull(c, buf); err != nil {
						return
					}
					acked.Add(1)
				}
			}()
			msg := make([]byte, 640)
			tm := time.NewTimer(time.Hour)
			next := time.Now()
			for next.Before(stop) {
				next = next.Add(interval)
				tm.Reset(time.Until(next))
				<-tm.C
				if _, err := c.Write(msg); err != nil {
					break
				}
				sent.Add(1)
			}
			_ = c.Close()
			<-done
		})
	}
	wg.Wait()
	wall, cpu, srv := time.Since(t0), cpuTime()-cpu0, procCPU(cmd.Process.Pid)-srv0
	n := sent.Load()
	if n == 0 {
		t.Fatal("nothing sent")
	}
	t.Logf("%d connections for %v: %d messages (%.0f/s of %.0f/s intended), %d answered",
		conns, wall.Round(time.Millisecond), n, float64(n)/wall.Seconds(), float64(conns)/interval.Seconds(), acked.Load())
	t.Logf("CPU per message: client %.1f µs (%.2f cores), server %.1f µs (%.2f cores)",
		float64(cpu.Microseconds())/float64(n), cpu.Seconds()/wall.Seconds(),
		float64(srv.Microseconds())/float64(n), srv.Seconds()/wall.Seconds())
}
