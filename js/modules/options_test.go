package modules_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

type frameOpts struct {
	Frames  int
	FrameMs int    `js:"frameMs"`
	Data    []byte `js:"data"`
}

type baseOpts struct {
	Tags         map[string]string
	ThrowOnError *bool `json:"throwOnError,omitempty"`
}

type testOpts struct {
	baseOpts
	Name      string         `js:"name"`
	RiskLevel string         `js:"riskLevel,risk_level"`
	Count     int64          `js:"count"`
	Size      uint           `js:"size"`
	Ratio     float64        `js:"ratio"`
	Timeout   time.Duration  `js:"timeout"`
	Interval  *time.Duration `js:"interval"`
	Acks      *bool          `js:"acks"`
	List      []string       `js:"list"`
	Audio     *frameOpts     `js:"audio"`
	Raw       goja.Value     `js:"raw"`
	Any       any            `js:"any"`
	Hidden    string         `js:"-"`
	//lint:ignore U1000 an unexported field the decoder must skip
	internal string
}

func TestDecodeOptions(t *testing.T) {
	ms := func(n int) *time.Duration { d := time.Duration(n) * time.Millisecond; return &d }
	yes := true
	tests := []struct {
		name  string
		src   string
		start testOpts
		want  testOpts
	}{
		{name: "undefined decodes nothing", src: `undefined`, start: testOpts{Name: "keep"}, want: testOpts{Name: "keep"}},
		{name: "null decodes nothing", src: `null`, start: testOpts{Name: "keep"}, want: testOpts{Name: "keep"}},
		{name: "scalars", src: `({name: 5, count: 3.9, size: 7, ratio: 0.25})`,
			want: testOpts{Name: "5", Count: 3, Size: 7, Ratio: 0.25}},
		{name: "alias", src: `({risk_level: "high"})`, want: testOpts{RiskLevel: "high"}},
		{name: "embedded struct fields and json names", src: `({tags: {a: 1, b: "x"}, throwOnError: 1})`,
			want: testOpts{baseOpts: baseOpts{Tags: map[string]string{"a": "1", "b": "x"}, ThrowOnError: &yes}}},
		{name: "durations: string, ms integer, ms fraction", src: `({timeout: "1m30s", interval: 2.5})`,
			want: testOpts{Timeout: 90 * time.Second, Interval: func() *time.Duration { d := 2500 * time.Microsecond; return &d }()}},
		{name: "duration in integer ms", src: `({interval: 20})`, want: testOpts{Interval: ms(20)}},
		{name: "undefined property leaves the field", src: `({name: undefined})`, start: testOpts{Name: "keep"}, want: testOpts{Name: "keep"}},
		{name: "null property zeroes the field", src: `({name: null, acks: null})`, start: testOpts{Name: "x", Acks: &yes}, want: testOpts{}},
		{name: "pointer tells false from absent", src: `({acks: false})`, want: testOpts{Acks: new(bool)}},
		{name: "slice through ExportTo", src: `({list: ["a", "b"]})`, want: testOpts{List: []string{"a", "b"}}},
		{name: "nested object", src: `({audio: {frames: 2, frameMs: 20, data: "ab"}})`,
			want: testOpts{Audio: &frameOpts{Frames: 2, FrameMs: 20, Data: []byte("ab")}}},
		{name: "ArrayBuffer bytes", src: `({audio: {data: new Uint8Array([1, 2, 3]).buffer}})`,
			want: testOpts{Audio: &frameOpts{Data: []byte{1, 2, 3}}}},
		{name: "any exports", src: `({any: {k: [1]}})`, want: testOpts{Any: map[string]any{"k": []any{int64(1)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := goja.New()
			v, err := rt.RunString(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			got := tt.start
			if err := modules.DecodeOptions(rt, v, &got); err != nil {
				t.Fatalf("DecodeOptions: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeOptionsRaw(t *testing.T) {
	rt := goja.New()
	v, _ := rt.RunString(`({raw: function () { return 7; }})`)
	var o testOpts
	if err := modules.DecodeOptions(rt, v, &o); err != nil {
		t.Fatal(err)
	}
	if fn, ok := goja.AssertFunction(o.Raw); !ok {
		t.Fatalf("raw = %v, want the function itself", o.Raw)
	} else if r, _ := fn(goja.Undefined()); r.ToInteger() != 7 {
		t.Errorf("raw() = %v", r)
	}
}

func TestDecodeOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // substrings of the error
	}{
		{"unknown key names it and the known ones", `({nmae: "x"})`,
			[]string{`unknown option "nmae"`, "tags, throwOnError, name, riskLevel, count", "any"}},
		{"hidden fields are unknown", `({hidden: "x"})`, []string{`unknown option "hidden"`}},
		{"unknown nested key has its path", `({audio: {frms: 1}})`, []string{`unknown option "audio.frms"`, "frames, frameMs, data"}},
		{"bad duration string", `({timeout: "soon"})`, []string{"option timeout", `"soon" is not a duration`}},
		{"bad duration type", `({timeout: true})`, []string{"option timeout", "true is not a duration"}},
		{"negative unsigned", `({size: -1})`, []string{"option size", "negative"}},
		{"nested not an object", `({audio: 5})`, []string{"option audio", "5 is not an object"}},
		{"map not an object", `({tags: "a"})`, []string{"option tags", `"a" is not an object`}},
		{"bytes of a number", `({audio: {data: 5}})`, []string{"option audio.data", "not an ArrayBuffer"}},
		{"slice of a non-array", `({list: {a: 1}})`, []string{"option list"}},
		{"options not an object", `"x"`, []string{"options", "not an object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := goja.New()
			v, err := rt.RunString(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			var o testOpts
			err = modules.DecodeOptions(rt, v, &o)
			if err == nil {
				t.Fatalf("no error, decoded %+v", o)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestDecodeOptionsBadDestination(t *testing.T) {
	rt := goja.New()
	v, _ := rt.RunString(`({})`)
	var s string
	if err := modules.DecodeOptions(rt, v, &s); err == nil {
		t.Error("a *string destination was accepted")
	}
	if err := modules.DecodeOptions(rt, v, testOpts{}); err == nil {
		t.Error("a non-pointer destination was accepted")
	}
}

func TestParseDuration(t *testing.T) {
	rt := goja.New()
	for _, tt := range []struct {
		src  string
		want time.Duration
	}{{`"20s"`, 20 * time.Second}, {`" 250ms "`, 250 * time.Millisecond}, {`1500`, 1500 * time.Millisecond}, {`0.5`, 500 * time.Microsecond}, {`undefined`, 0}, {`null`, 0}} {
		v, _ := rt.RunString(tt.src)
		got, err := modules.ParseDuration(v)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%s) = %v, %v; want %v", tt.src, got, err, tt.want)
		}
	}
}

// BenchmarkDecodeOptions decodes inspect-sized options ({expect, tags}), as k6/x/pixel does
// on every pixel.inspect call that passes options.
func BenchmarkDecodeOptions(b *testing.B) {
	rt := goja.New()
	v, err := rt.RunString(`({expect: {crisis: true, bias: false}, tags: {endpoint: 'infer'}})`)
	if err != nil {
		b.Fatal(err)
	}
	type expect struct{ Crisis, Bias *bool }
	type opts struct {
		Tags         map[string]string
		Expect       expect
		ThrowOnError bool
	}
	b.ReportAllocs()
	for b.Loop() {
		var o opts
		if err := modules.DecodeOptions(rt, v, &o); err != nil {
			b.Fatal(err)
		}
	}
}
