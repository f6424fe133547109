package stream

import (
	"context"
	"testing"
	"time"
)

func TestPastDeadline(t *testing.T) {
	past, cancelPast := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelPast()
	future, cancelFuture := context.WithTimeout(context.Background(), time.Hour)
	defer cancelFuture()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"no deadline", context.Background(), false},
		{"deadline ahead", future, false},
		{"deadline passed", past, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pastDeadline(tc.ctx); got != tc.want {
				t.Errorf("pastDeadline = %v; want %v", got, tc.want)
			}
		})
	}
}
