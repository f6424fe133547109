package stream

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Modalities of a chunk, as the server names them.
const (
	Text  = "text"
	Audio = "audio"
	Image = "image"
)

// Encoding is how chunks travel on the wire.
type Encoding uint8

const (
	// JSON sends each chunk as a text frame {"type":"chunk","seq":N,"modality":M,"data":D};
	// D is the text itself for text chunks and base64 for audio and image bytes.
	JSON Encoding = iota
	// Binary sends each chunk's raw bytes as a binary frame; the server acks them in order.
	Binary
)

// ParseEncoding parses "json" or "binary" ("" is JSON).
func ParseEncoding(s string) (Encoding, error) {
	switch s {
	case "", "json":
		return JSON, nil
	case "binary":
		return Binary, nil
	}
	return 0, fmt.Errorf("unknown chunk encoding %q (want json or binary)", s)
}

// Chunk is one pre-built message of a session: its payload is encoded once, before the
// session starts, so sending it costs one write and no allocation.
type Chunk struct {
	Seq      int    // 1-based position in the session (the JSON chunk's "seq")
	Modality string // Text, Audio or Image
	Payload  []byte // the frame's bytes
	Binary   bool   // a binary frame (else a text frame)
	Size     int    // the chunk's content bytes before encoding
}

// AudioSpec describes audio frames: Frames frames of FrameMs milliseconds of 16-bit
// little-endian mono PCM at SampleRate Hz (SampleRate*FrameMs/1000*2 bytes each). PCM, when
// set, is sliced into frames (the last one zero-padded) and Frames defaults to as many as it
// fills; otherwise a synthetic 440 Hz tone is generated.
type AudioSpec struct {
	Frames     int
	FrameMs    int // default 20
	SampleRate int // Hz, default 16000
	PCM        []byte
}

// FrameBytes returns the size of one audio frame in bytes.
func (a AudioSpec) FrameBytes() int {
	a = a.withDefaults()
	return a.SampleRate * a.FrameMs / 1000 * 2
}

func (a AudioSpec) withDefaults() AudioSpec {
	if a.FrameMs <= 0 {
		a.FrameMs = 20
	}
	if a.SampleRate <= 0 {
		a.SampleRate = 16000
	}
	return a
}

// ImageSpec describes image frames: Frames frames of Bytes bytes each (Data repeated or
// sliced when set, synthetic bytes otherwise).
type ImageSpec struct {
	Frames int
	Bytes  int // bytes per frame, default len(Data) or 4096
	Data   []byte
}

// Spec is what a session streams, in this order: text chunks, audio frames, image frames,
// then Chunks synthetic text chunks of ChunkSize bytes.
type Spec struct {
	Text          string
	TextChunkSize int // at most this many characters per text chunk, split at spaces; default 64
	Audio         *AudioSpec
	Image         *ImageSpec
	Chunks        int // synthetic chunks
	ChunkSize     int // bytes per synthetic chunk, default 640
	Encoding      Encoding
}

// Modalities returns the modalities spec streams, in stream order, without duplicates.
func (s Spec) Modalities() []string {
	var out []string
	if s.Text != "" || s.Chunks > 0 {
		out = append(out, Text)
	}
	if s.Audio != nil {
		out = append(out, Audio)
	}
	if s.Image != nil {
		out = append(out, Image)
	}
	return out
}

// maxChunks bounds a session's chunk count, so a typo cannot allocate without limit.
const maxChunks = 1 << 20

// BuildChunks encodes every chunk of spec once. Payloads share one backing array.
func BuildChunks(spec Spec) ([]Chunk, error) {
	type raw struct {
		modality string
		data     []byte
	}
	var raws []raw
	if spec.Text != "" {
		n := spec.TextChunkSize
		if n <= 0 {
			n = 64
		}
		for _, t := range splitText(spec.Text, n) {
			raws = append(raws, raw{Text, []byte(t)})
		}
	}
	if a := spec.Audio; a != nil {
		if a.Frames < 0 {
			return nil, fmt.Errorf("audio frames %d: must be ≥ 0", a.Frames)
		}
		ad := a.withDefaults()
		fb := ad.FrameBytes()
		if fb <= 0 {
			return nil, fmt.Errorf("audio frame of %d ms at %d Hz is empty", ad.FrameMs, ad.SampleRate)
		}
		frames := ad.Frames
		if frames == 0 && len(ad.PCM) > 0 {
			frames = (len(ad.PCM) + fb - 1) / fb
		}
		if frames > maxChunks {
			return nil, fmt.Errorf("audio frames %d: more than %d", frames, maxChunks)
		}
		for i := range frames {
			raws = append(raws, raw{Audio, audioFrame(ad, i, fb)})
		}
	}
	if im := spec.Image; im != nil {
		if im.Frames < 0 || im.Frames > maxChunks {
			return nil, fmt.Errorf("image frames %d: must be in [0, %d]", im.Frames, maxChunks)
		}
		size := im.Bytes
		if size <= 0 {
			size = len(im.Data)
		}
		if size <= 0 {
			size = 4096
		}
		for i := range im.Frames {
			raws = append(raws, raw{Image, imageFrame(im.Data, i, size)})
		}
	}
	if spec.Chunks < 0 || spec.Chunks > maxChunks {
		return nil, fmt.Errorf("chunks %d: must be in [0, %d]", spec.Chunks, maxChunks)
	}
	if spec.Chunks > 0 {
		size := spec.ChunkSize
		if size <= 0 {
			size = 640
		}
		data := make([]byte, size)
		for i := range data {
			data[i] = 'a' + byte(i%26)
		}
		for range spec.Chunks {
			raws = append(raws, raw{Text, data})
		}
	}
	if len(raws) > maxChunks {
		return nil, fmt.Errorf("%d chunks: more than %d", len(raws), maxChunks)
	}

	chunks := make([]Chunk, len(raws))
	var buf []byte
	ends := make([]int, len(raws))
	for i, r := range raws {
		seq := i + 1
		if spec.Encoding == Binary {
			buf = append(buf, r.data...)
		} else {
			buf = appendJSONChunk(buf, seq, r.modality, r.data)
		}
		ends[i] = len(buf)
	}
	start := 0
	for i, r := range raws {
		chunks[i] = Chunk{
			Seq: i + 1, Modality: r.modality, Size: len(r.data),
			Payload: buf[start:ends[i]:ends[i]], Binary: spec.Encoding == Binary,
		}
		start = ends[i]
	}
	return chunks, nil
}

func appendJSONChunk(buf []byte, seq int, modality string, data []byte) []byte {
	buf = append(buf, `{"type":"chunk","seq":`...)
	buf = strconv.AppendInt(buf, int64(seq), 10)
	buf = append(buf, `,"modality":"`...)
	buf = append(buf, modality...)
	buf = append(buf, `","data":`...)
	if modality == Text {
		q, _ := json.Marshal(string(data)) // a string always marshals
		buf = append(buf, q...)
	} else {
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, data)
		buf = append(buf, '"')
	}
	return append(buf, '}')
}

// splitText splits text into chunks of at most n characters at word boundaries (a word
// longer than n is cut, never inside a UTF-8 sequence). The whitespace between chunks is
// dropped: the server joins text chunks with one space, so whole words survive streaming.
func splitText(text string, n int) []string {
	var out []string
	var cur strings.Builder
	curLen := 0
	emit := func() {
		if curLen > 0 {
			out = append(out, cur.String())
			cur.Reset()
			curLen = 0
		}
	}
	for _, w := range strings.Fields(text) {
		wl := utf8.RuneCountInString(w)
		for wl > n { // cut an overlong word
			emit()
			cut := 0
			for range n {
				_, sz := utf8.DecodeRuneInString(w[cut:])
				cut += sz
			}
			out = append(out, w[:cut])
			w, wl = w[cut:], wl-n
		}
		if curLen > 0 && curLen+1+wl > n {
			emit()
		}
		if curLen > 0 {
			cur.WriteByte(' ')
			curLen++
		}
		cur.WriteString(w)
		curLen += wl
	}
	emit()
	return out
}

// audioFrame returns frame i: a slice of the given PCM (zero-padded) or a synthetic tone.
func audioFrame(a AudioSpec, i, fb int) []byte {
	out := make([]byte, fb)
	if len(a.PCM) > 0 {
		off := (i * fb) % len(a.PCM)
		copy(out, a.PCM[off:])
		return out
	}
	perFrame := fb / 2
	for k := range perFrame {
		t := float64(i*perFrame+k) / float64(a.SampleRate)
		v := int16(8000 * math.Sin(2*math.Pi*440*t))
		out[2*k] = byte(v)
		out[2*k+1] = byte(uint16(v) >> 8)
	}
	return out
}

func imageFrame(data []byte, i, size int) []byte {
	out := make([]byte, size)
	if len(data) > 0 {
		for k := range out {
			out[k] = data[(i*size+k)%len(data)]
		}
		return out
	}
	for k := range out {
		out[k] = byte(i + k*7)
	}
	return out
}
