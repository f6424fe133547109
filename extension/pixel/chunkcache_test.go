package pixel

import (
	"testing"

	"github.com/pixelk6/pixelk6/extension/pixel/stream"
)

func TestChunkCache(t *testing.T) {
	c := newChunkCache()
	build := func(spec stream.Spec) []stream.Chunk {
		t.Helper()
		ch, err := c.get(spec)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	a := build(stream.Spec{Audio: &stream.AudioSpec{Frames: 50}})
	b := build(stream.Spec{Audio: &stream.AudioSpec{Frames: 50}})
	if &a[0] != &b[0] {
		t.Error("identical specs built twice; want the cached chunks")
	}
	cases := []struct {
		name string
		spec stream.Spec
	}{
		{"more frames", stream.Spec{Audio: &stream.AudioSpec{Frames: 51}}},
		{"binary", stream.Spec{Audio: &stream.AudioSpec{Frames: 50}, Encoding: stream.Binary}},
		{"other pcm", stream.Spec{Audio: &stream.AudioSpec{Frames: 50, PCM: []byte{1, 2, 3, 4}}}},
		{"with text", stream.Spec{Text: "hi", Audio: &stream.AudioSpec{Frames: 50}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if d := build(tc.spec); len(d) > 0 && &d[0] == &a[0] {
				t.Fatal("a different spec got the cached chunks of another")
			}
		})
	}
	pcm1 := build(stream.Spec{Audio: &stream.AudioSpec{Frames: 1, PCM: []byte{1, 2}}})
	pcm2 := build(stream.Spec{Audio: &stream.AudioSpec{Frames: 1, PCM: []byte{3, 4}}})
	if string(pcm1[0].Payload) == string(pcm2[0].Payload) {
		t.Fatal("PCM contents are not part of the cache key")
	}
}
