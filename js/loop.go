package js

import (
	"context"
	"time"

	"github.com/pixelk6/pixelk6/js/modules/eventloop"
)

// eventLoop is a VU's event loop: the shared implementation in js/modules/eventloop (which
// modulestest drives too), under the names the VU code uses.
type eventLoop struct{ l *eventloop.Loop }

func newEventLoop() *eventLoop { return &eventLoop{eventloop.New()} }

// register reserves a callback slot (eventloop.Loop.Register).
func (l *eventLoop) register() func(f func() error) { return l.l.Register() }

// afterFunc schedules f on the loop (eventloop.Loop.AfterFunc).
func (l *eventLoop) afterFunc(d time.Duration, f func() error) *eventloop.Timer {
	return l.l.AfterFunc(d, f)
}

// setCheck installs the function run calls after each task (eventloop.Loop.SetCheck).
func (l *eventLoop) setCheck(check func() error) { l.l.SetCheck(check) }

// run drives one run of the loop (eventloop.Loop.Run).
func (l *eventLoop) run(ctx context.Context, first func() error) error { return l.l.Run(ctx, first) }
