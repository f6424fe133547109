//go:build !linux

package evloop

func newWaiter() (waiter, error) { return newChanWaiter(), nil }

func isAgain(error) bool { return false }

func newSharedWaiter() (waiter, error) { return newChanWaiter(), nil }
