package stream

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestBuildChunks(t *testing.T) {
	cases := []struct {
		name       string
		spec       Spec
		wantN      int
		wantSizes  []int
		wantModal  []string
		wantErr    bool
		wantBinary bool
	}{
		{"benchmark shape: 50 audio frames of 20 ms at 16 kHz", Spec{Audio: &AudioSpec{Frames: 50, FrameMs: 20, SampleRate: 16000}}, 50, []int{640}, []string{Audio}, false, false},
		{"overlong words cut by characters", Spec{Text: "héllo wörld", TextChunkSize: 4}, 4, []int{5, 1, 5, 1}, []string{Text, Text, Text, Text}, false, false},
		{"text default chunk size", Spec{Text: strings.Repeat("a", 130)}, 3, []int{64, 64, 2}, nil, false, false},
		{"text split at word boundaries", Spec{Text: "I feel  hopeless and\nalone today", TextChunkSize: 10}, 4, []int{6, 8, 9, 5}, nil, false, false},
		{"pcm from a buffer fills frames", Spec{Audio: &AudioSpec{FrameMs: 10, SampleRate: 8000, PCM: make([]byte, 400)}}, 3, []int{160, 160, 160}, nil, false, false},
		{"image frames", Spec{Image: &ImageSpec{Frames: 2, Bytes: 1000}}, 2, []int{1000, 1000}, []string{Image, Image}, false, false},
		{"synthetic chunks", Spec{Chunks: 4}, 4, []int{640}, nil, false, false},
		{"order text audio image", Spec{Text: "ab", Audio: &AudioSpec{Frames: 1}, Image: &ImageSpec{Frames: 1}}, 3, nil, []string{Text, Audio, Image}, false, false},
		{"binary encoding keeps raw bytes", Spec{Audio: &AudioSpec{Frames: 2}, Encoding: Binary}, 2, []int{640}, nil, false, true},
		{"negative frames", Spec{Audio: &AudioSpec{Frames: -1}}, 0, nil, nil, true, false},
		{"too many chunks", Spec{Chunks: maxChunks + 1}, 0, nil, nil, true, false},
		{"nothing", Spec{}, 0, nil, nil, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := BuildChunks(c.spec)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, c.wantErr)
			}
			if len(got) != c.wantN {
				t.Fatalf("%d chunks, want %d", len(got), c.wantN)
			}
			for i, ch := range got {
				if ch.Seq != i+1 {
					t.Fatalf("chunk %d has seq %d", i, ch.Seq)
				}
				if len(c.wantSizes) > 0 {
					want := c.wantSizes[min(i, len(c.wantSizes)-1)]
					if ch.Size != want {
						t.Fatalf("chunk %d size %d, want %d", i, ch.Size, want)
					}
				}
				if c.wantModal != nil && ch.Modality != c.wantModal[min(i, len(c.wantModal)-1)] {
					t.Fatalf("chunk %d modality %q, want %q", i, ch.Modality, c.wantModal[min(i, len(c.wantModal)-1)])
				}
				if ch.Binary != c.wantBinary {
					t.Fatalf("chunk %d binary %v", i, ch.Binary)
				}
				if ch.Binary {
					if len(ch.Payload) != ch.Size {
						t.Fatalf("binary payload %d bytes for a %d-byte chunk", len(ch.Payload), ch.Size)
					}
					continue
				}
				var m struct {
					Type, Modality string
					Seq            int
					Data           string
				}
				if err := json.Unmarshal(ch.Payload, &m); err != nil {
					t.Fatalf("chunk %d payload %q: %v", i, ch.Payload, err)
				}
				if m.Type != "chunk" || m.Seq != i+1 || m.Modality != ch.Modality {
					t.Fatalf("chunk %d decodes as %+v", i, m)
				}
				size := len(m.Data)
				if m.Modality != Text {
					raw, err := base64.StdEncoding.DecodeString(m.Data)
					if err != nil {
						t.Fatalf("chunk %d data is not base64: %v", i, err)
					}
					size = len(raw)
				}
				if size != ch.Size {
					t.Fatalf("chunk %d carries %d bytes, want %d", i, size, ch.Size)
				}
			}
		})
	}
}

func TestSpecModalities(t *testing.T) {
	s := Spec{Text: "x", Image: &ImageSpec{Frames: 1}}
	if got := strings.Join(s.Modalities(), ","); got != "text,image" {
		t.Fatalf("Modalities() = %q", got)
	}
}

// BenchmarkSession measures one whole session of the benchmark shape (50 × 640-byte
// chunks, unpaced) against a loopback server, client and server on the same cores.
func BenchmarkSession(b *testing.B) {
	srv := newTestServer(b, behaviour{})
	chunks, err := BuildChunks(Spec{Audio: &AudioSpec{Frames: 50}, Encoding: Binary})
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{URL: srv.URL, Chunks: chunks, Acks: true, Start: []byte(`{"type":"start"}`)}
	d := testDriver(b)
	b.ReportAllocs()
	for b.Loop() {
		if res := d.Run(context.Background(), cfg, nil); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}

func TestSplitText(t *testing.T) {
	cases := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"words packed", "I feel hopeless and alone today", 10, "I feel|hopeless|and alone|today"},
		{"whitespace normalised", "  a \t b\n\nc ", 3, "a b|c"},
		{"long word cut", "abcdefgh", 3, "abc|def|gh"},
		{"utf8 kept whole", "ééé", 2, "éé|é"},
		{"empty", "   ", 5, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := strings.Join(splitText(c.in, c.n), "|"); got != c.want {
				t.Fatalf("splitText(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
			}
		})
	}
}
