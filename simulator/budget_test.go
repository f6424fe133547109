package simulator

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// chunkText sends a text chunk and waits for its ack.
func chunkText(t *testing.T, c *websocket.Conn, seq int, text string) {
	t.Helper()
	sendJSON(t, c, map[string]any{"type": "chunk", "seq": seq, "data": text})
	if m := readMsg(t, c); m.Type != "chunk_ack" || m.ClientSeq == nil || *m.ClientSeq != int64(seq) {
		t.Fatalf("chunk %d → %+v", seq, m)
	}
}

// readClose reads until the server's close frame and returns its code and reason.
func readClose(t *testing.T, c *websocket.Conn) (int, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("read error %v, want a close frame", err)
		}
		return ce.Code, ce.Text
	}
}

// TestWSTextBudget: the sessions' text buffers share WSConfig.TextBudget; a chunk that
// would pass it closes its session with 1013 while the others go on, and a session that
// ends gives its share back.
func TestWSTextBudget(t *testing.T) {
	s, base := startServer(t, Config{WS: WSConfig{TextBudget: 1000}})
	text := strings.Repeat("a", 600)

	first := dialWS(t, base)
	chunkText(t, first, 1, text)
	if used := s.Stats().WSTextBytes; used != 600 {
		t.Fatalf("budget in use after 600 bytes: %d", used)
	}
	second := dialWS(t, base)
	sendJSON(t, second, map[string]any{"type": "chunk", "seq": 1, "data": text})
	if code, reason := readClose(t, second); code != CloseTryLater || !strings.Contains(reason, "try again later") {
		t.Fatalf("second session closed with %d %q, want 1013 try again later", code, reason)
	}
	second.Close()

	// The first session is unharmed: it sends more and gets its inference.
	chunkText(t, first, 2, "I feel hopeless")
	sendJSON(t, first, map[string]any{"type": "end"})
	if m := readMsg(t, first); m.Type != "inference" || m.Crisis.RiskLevel != RiskMedium {
		t.Fatalf("first session's end → %+v", m)
	}
	first.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	readClose(t, first)
	eventually(t, "the budget to be released", func() bool {
		st := s.Stats()
		return st.WSSessionsActive == 0 && st.WSTextBytes == 0
	})

	third := dialWS(t, base)
	chunkText(t, third, 1, text)
	sendJSON(t, third, map[string]any{"type": "end"})
	if m := readMsg(t, third); m.Type != "inference" {
		t.Fatalf("third session's end → %+v", m)
	}
	third.Close()
	eventually(t, "the budget to be released", func() bool {
		st := s.Stats()
		return st.WSSessionsActive == 0 && st.WSTextBytes == 0
	})
	if st := s.Stats(); st.WSOverBudget != 1 || st.WSInferences != 2 {
		t.Errorf("stats: %d over budget, %d inferences", st.WSOverBudget, st.WSInferences)
	}
}

// TestWSTextBudgetGrowth: a session's share is its buffer's capacity, doubled as the text
// grows but never past MaxSessionText, and taken exactly when the budget is short of the
// doubling; an inference keeps a small buffer (and its share) and frees a big one.
func TestWSTextBudgetGrowth(t *testing.T) {
	s, base := startServer(t, Config{WS: WSConfig{TextBudget: 8100, MaxSessionText: 8000}})
	c := dialWS(t, base)
	for _, step := range []struct {
		chunk int
		want  int64
	}{
		{10, minTextBytes},      // the first buffer
		{300, 2 * minTextBytes}, // 10+1+300 = 311: doubled
		{1000, 1312},            // 311+1+1000 = 1312: more than double
		{1200, 2624},            // 1312+1+1200 = 2513: doubled
		{2500, 5248},            // 5014: doubled
		{2900, 8000},            // 7915: double is over MaxSessionText, which caps it
	} {
		chunkText(t, c, step.chunk, strings.Repeat("x", step.chunk))
		if got := s.Stats().WSTextBytes; got != step.want {
			t.Fatalf("after a chunk of %d: %d bytes of budget, want %d", step.chunk, got, step.want)
		}
	}
	sendJSON(t, c, map[string]any{"type": "end"})
	readMsg(t, c)
	if got := s.Stats().WSTextBytes; got != 0 {
		t.Errorf("after an inference of a big text: %d bytes of budget held", got)
	}
	chunkText(t, c, 1, "small")
	sendJSON(t, c, map[string]any{"type": "end"})
	readMsg(t, c)
	if got := s.Stats().WSTextBytes; got != minTextBytes {
		t.Errorf("after an inference of a small text: %d bytes of budget held, want %d", got, minTextBytes)
	}

	// Short of the doubling, a session takes what it needs.
	other := dialWS(t, base)
	chunkText(t, other, 1, strings.Repeat("y", 7000))
	// 7801 bytes: doubling wants 1000 more, the budget has 8100-256-7000 = 844.
	chunkText(t, other, 2, strings.Repeat("y", 800))
	if got := s.Stats().WSTextBytes; got != minTextBytes+7801 {
		t.Errorf("budget in use %d, want %d", got, minTextBytes+7801)
	}
}

// TestWSTextBudgetReleased: however a session holding text ends, its share of the budget
// comes back.
func TestWSTextBudgetReleased(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		end  func(t *testing.T, s *Server, c *websocket.Conn)
	}{
		{"client close frame", Config{}, func(t *testing.T, _ *Server, c *websocket.Conn) {
			c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			readClose(t, c)
		}},
		{"TCP closed", Config{}, func(t *testing.T, _ *Server, c *websocket.Conn) { c.NetConn().Close() }},
		{"TCP closed during an inference", Config{Faults: Faults{StallRate: 1, StallFor: 100 * time.Millisecond}}, func(t *testing.T, s *Server, c *websocket.Conn) {
			sendJSON(t, c, map[string]any{"type": "end"})
			eventually(t, "the stall", func() bool { return s.Stats().Stalled == 1 })
			c.NetConn().Close()
		}},
		{"protocol error", Config{}, func(t *testing.T, _ *Server, c *websocket.Conn) {
			writeRaw(t, c, clientFrame(0x81, []byte(`{"type":"end"}`), true)) // unmasked
			if code, _ := readClose(t, c); code != websocket.CloseProtocolError {
				t.Errorf("close %d, want 1002", code)
			}
		}},
		{"invalid UTF-8", Config{}, func(t *testing.T, _ *Server, c *websocket.Conn) {
			writeRaw(t, c, clientFrame(0x81, []byte("\xff"), false))
			if code, _ := readClose(t, c); code != CloseBadText {
				t.Errorf("close %d, want 1007", code)
			}
		}},
		{"session text over its limit", Config{WS: WSConfig{MaxSessionText: 1000}}, func(t *testing.T, _ *Server, c *websocket.Conn) {
			sendJSON(t, c, map[string]any{"type": "chunk", "seq": 2, "data": strings.Repeat("b", 600)})
			if code, _ := readClose(t, c); code != CloseTooLarge {
				t.Errorf("close %d, want 1009", code)
			}
		}},
		{"over budget", Config{WS: WSConfig{TextBudget: 1000}}, func(t *testing.T, _ *Server, c *websocket.Conn) {
			sendJSON(t, c, map[string]any{"type": "chunk", "seq": 2, "data": strings.Repeat("b", 600)})
			if code, _ := readClose(t, c); code != CloseTryLater {
				t.Errorf("close %d, want 1013", code)
			}
		}},
		{"idle timeout", Config{WS: WSConfig{IdleTimeout: 100 * time.Millisecond}}, func(t *testing.T, _ *Server, c *websocket.Conn) {
			if code, _ := readClose(t, c); code != CloseIdle {
				t.Errorf("close %d, want 1001", code)
			}
		}},
		{"server closed", Config{}, func(t *testing.T, s *Server, c *websocket.Conn) {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if code, _ := readClose(t, c); code != CloseIdle {
				t.Errorf("close %d, want 1001", code)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, base := startServer(t, tc.cfg)
			c := dialWS(t, base)
			chunkText(t, c, 1, strings.Repeat("a", 500))
			if used := s.Stats().WSTextBytes; used < 500 {
				t.Fatalf("budget in use %d, want at least 500", used)
			}
			tc.end(t, s, c)
			c.Close()
			eventually(t, "the session to end", func() bool { return s.Stats().WSSessionsActive == 0 })
			if used := s.Stats().WSTextBytes; used != 0 {
				t.Errorf("budget in use after the session ended: %d", used)
			}
		})
	}
	t.Run("drop fault", func(t *testing.T) {
		s, base := startServer(t, Config{Faults: Faults{DropRate: 1}})
		for range 3 {
			c := dialWS(t, base)
			sendJSON(t, c, map[string]any{"type": "chunk", "seq": 1, "data": "x"})
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, _, err := c.ReadMessage(); err == nil {
				t.Fatal("a dropped session answered")
			}
		}
		eventually(t, "the sessions to end", func() bool {
			st := s.Stats()
			return st.WSSessionsActive == 0 && st.WSDropped == 3
		})
		if used := s.Stats().WSTextBytes; used != 0 {
			t.Errorf("budget in use after the sessions ended: %d", used)
		}
	})
}
