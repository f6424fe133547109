package js

// The built-in modules register themselves from init; linking package js links them all.
import (
	_ "github.com/pixelk6/pixelk6/js/modules/k6"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/crypto"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/data"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/encoding"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/execution"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/experimental/csv"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/experimental/fs"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/experimental/streams"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/html"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/http"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/metrics"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/net/grpc"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/secrets"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/timers"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/websockets"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/ws"
)
