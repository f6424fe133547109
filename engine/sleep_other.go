//go:build !linux

package engine

import "time"

// sleepShort blocks for d (at most a few ms).
func sleepShort(d time.Duration) { time.Sleep(d) }
