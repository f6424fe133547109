package pixel

import (
	"hash/maphash"
	"sync"

	"github.com/pixelk6/pixelk6/extension/pixel/stream"
)

// chunkKey identifies a stream.Spec: equal keys build byte-identical chunks (a chunk's
// payload depends only on the spec, its seq included), so sessions with the same options
// share one read-only set of payloads instead of encoding 50 frames each.
type chunkKey struct {
	text                  string
	textChunkSize         int
	chunks, chunkSize     int
	encoding              stream.Encoding
	audio                 bool
	frames, frameMs, rate int
	pcmLen                int
	pcmHash               uint64
	image                 bool
	imgFrames, imgBytes   int
	imgLen                int
	imgHash               uint64
}

// maxCachedSpecs bounds the cache: a script that streams ever-changing text does not grow
// it past this; further specs are built per session.
const maxCachedSpecs = 256

// chunkCache is the process-wide cache of built chunks (owned by the root module).
type chunkCache struct {
	mu   sync.Mutex
	seed maphash.Seed
	m    map[chunkKey][]stream.Chunk
}

func newChunkCache() *chunkCache {
	return &chunkCache{seed: maphash.MakeSeed(), m: make(map[chunkKey][]stream.Chunk)}
}

func (c *chunkCache) key(spec stream.Spec) chunkKey {
	k := chunkKey{text: spec.Text, textChunkSize: spec.TextChunkSize, chunks: spec.Chunks,
		chunkSize: spec.ChunkSize, encoding: spec.Encoding}
	if a := spec.Audio; a != nil {
		k.audio, k.frames, k.frameMs, k.rate = true, a.Frames, a.FrameMs, a.SampleRate
		k.pcmLen, k.pcmHash = len(a.PCM), maphash.Bytes(c.seed, a.PCM)
	}
	if im := spec.Image; im != nil {
		k.image, k.imgFrames, k.imgBytes = true, im.Frames, im.Bytes
		k.imgLen, k.imgHash = len(im.Data), maphash.Bytes(c.seed, im.Data)
	}
	return k
}

// get returns spec's chunks, building them on a miss. The returned chunks are shared and
// must not be modified.
func (c *chunkCache) get(spec stream.Spec) ([]stream.Chunk, error) {
	k := c.key(spec)
	c.mu.Lock()
	ch, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return ch, nil
	}
	ch, err := stream.BuildChunks(spec)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) < maxCachedSpecs {
		c.m[k] = ch
	}
	c.mu.Unlock()
	return ch, nil
}

// chunks returns spec's chunks from the root module's cache.
func (rm *RootModule) chunks(spec stream.Spec) ([]stream.Chunk, error) { return rm.cache.get(spec) }
