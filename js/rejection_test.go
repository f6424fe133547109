package js_test

import (
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

// TestUnhandledRejection: a Promise rejected with no handler fails the iteration with k6's
// "Uncaught (in promise) ..." error once the task that rejected it ends (the rest of the
// iteration does not run), and the iteration is still counted, as in k6; a handler attached
// in the same task keeps it handled.
func TestUnhandledRejection(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // "" = no error
	}{
		{"sync reject", "Promise.reject(new Error('boom'));", "Uncaught (in promise) Error: boom"},
		{"reject a string", "Promise.reject('plain');", "Uncaught (in promise) plain"},
		{"throw in then of a timer's promise",
			"await new Promise((resolve) => setTimeout(resolve, 1)).then(() => 1);\n" +
				"new Promise((resolve) => setTimeout(resolve, 1)).then(() => { throw new Error('in then'); });\n" +
				"await new Promise((resolve) => setTimeout(resolve, 50));\nconsole.log('after');",
			"Uncaught (in promise) Error: in then"},
		{"stops the iteration", "Promise.reject(new Error('early'));\nawait new Promise((resolve) => setTimeout(resolve, 1));\nconsole.log('after');",
			"Uncaught (in promise) Error: early"},
		{"caught", "await Promise.reject(new Error('x')).catch(() => {});\nconsole.log('after');", ""},
		{"handler attached later in the task", "const p = Promise.reject(new Error('x'));\nfor (let i = 0; i < 3; i++) {}\np.catch(() => {});\nconsole.log('after');", ""},
		{"awaited and caught", "try { await Promise.reject(new Error('x')); } catch (e) {}\nconsole.log('after');", ""},
		{"own rejection keeps its message", "throw new Error('own');", "Error: own"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := jstest.MustLoad(t, "export default async function () {\n"+tc.body+"\n}\n", nil)
			err := h.Run(t)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("iteration failed: %v", err)
				}
			} else {
				if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				if tc.name == "own rejection keeps its message" && strings.Contains(err.Error(), "Uncaught") {
					t.Errorf("the function's own rejection reported as unhandled: %v", err)
				}
			}
			if after := strings.Contains(h.Logs.String(), "after"); after != (tc.want == "") {
				t.Errorf("code after the rejection ran: %v; logs:\n%s", after, h.Logs.String())
			}
			if n := len(h.Samples.Metric("iterations")); n != 1 {
				t.Errorf("%d iterations samples, want 1 (k6 counts a failed iteration)", n)
			}
		})
	}
}

// TestUnhandledRejectionInInit: the init context fails on a Promise rejected with no
// handler too (k6: a script error, exit 107), in a script with or without top-level await;
// a handled one does not.
func TestUnhandledRejectionInInit(t *testing.T) {
	for _, src := range []string{
		"Promise.reject(new Error('init'));\nexport default function () {}\n",
		"await Promise.resolve();\nPromise.reject(new Error('init'));\nexport default function () {}\n",
	} {
		_, err := jstest.Load(t, src, nil)
		if err == nil || !strings.Contains(err.Error(), "Uncaught (in promise) Error: init") {
			t.Errorf("%q: err = %v, want the unhandled rejection", src, err)
		}
	}
	if _, err := jstest.Load(t, "Promise.reject(new Error('init')).catch(() => {});\nexport default function () {}\n", nil); err != nil {
		t.Errorf("handled rejection failed the init context: %v", err)
	}
}
