package wsframe_test

import (
	"fmt"

	"github.com/pixelk6/pixelk6/internal/wsframe"
)

// A client writes masked frames; the server's Reader is fed whatever has arrived, keeps
// the bytes it did not consume and calls again when more arrive.
func Example() {
	keys := wsframe.NewKeySource()
	var wire []byte
	wire = wsframe.AppendFrame(wire, wsframe.OpText, []byte(`{"seq":1}`), true, keys.Next())
	wire = wsframe.AppendFrame(wire, wsframe.OpPing, nil, true, keys.Next())
	wire = wsframe.AppendFrame(wire, wsframe.OpClose, wsframe.AppendClosePayload(nil, wsframe.CloseNormal, "done"), true, keys.Next())

	r := wsframe.Reader{Masked: true, MaxMessage: 1 << 20}
	var buf []byte // received and not yet consumed
	for len(wire) > 0 {
		chunk := wire[:min(len(wire), 7)] // bytes arrive in pieces
		wire = wire[len(chunk):]
		buf = append(buf, chunk...)
		for {
			m, n, ok, err := r.Next(buf)
			if err != nil {
				fmt.Println("close with", err.(*wsframe.ProtocolError).Code)
				return
			}
			buf = buf[n:]
			if !ok {
				break
			}
			switch m.Op {
			case wsframe.OpClose:
				code, reason, err := wsframe.ParseClosePayload(m.Payload)
				fmt.Println("close", code, reason, err)
			default:
				fmt.Printf("op %d %q\n", m.Op, m.Payload)
			}
		}
	}
	// Output:
	// op 1 "{\"seq\":1}"
	// op 9 ""
	// close 1000 done <nil>
}
