package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDockerfile checks what can be checked without a container engine (none runs here):
// the builder stage's `go build` command, run as written, makes static binaries
// (CGO_ENABLED=0) of pixelk6 and k6verdict; the release stage runs as the non-root uid
// 12345 with pixelk6 as the entrypoint and `k6` on the PATH naming pixelk6 (the
// k6-operator calls `k6`), and pixelk6 called as k6 works.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	var build string
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "RUN ") && strings.Contains(line, "go build") {
			build = strings.TrimPrefix(line, "RUN ")
		}
	}
	if build == "" || !strings.Contains(build, "CGO_ENABLED=0") || !strings.Contains(build, "-o /out/ ") {
		t.Fatalf("no static `go build -o /out/` line in the Dockerfile: %q", build)
	}
	for _, want := range []string{
		"\nFROM alpine:", "\nRUN adduser -D -u 12345 -g 12345 k6\n", "\nRUN ln -s pixelk6 /usr/bin/k6\n",
		"\nUSER 12345\n", "\nWORKDIR /home/k6\n", "\nENTRYPOINT [\"pixelk6\"]\n",
		"COPY --from=builder /out/pixelk6 /out/k6verdict /usr/bin/\n",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?m)^USER\s+(root|0)\s*$`).MatchString(src[strings.LastIndex(src, "\nFROM "):]) {
		t.Error("the release stage runs as root")
	}

	out := t.TempDir()
	cmd := exec.Command("sh", "-c", strings.Replace(build, "-o /out/ ", "-o "+out+"/ ", 1))
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "TARGETOS="+runtime.GOOS, "TARGETARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's build: %v\n%s", err, b)
	}
	for _, name := range []string{"pixelk6", "k6verdict"} {
		info, err := exec.Command("go", "version", "-m", filepath.Join(out, name)).Output()
		if err != nil {
			t.Fatalf("go version -m %s: %v", name, err)
		}
		if !strings.Contains(string(info), "CGO_ENABLED=0") || !strings.Contains(string(info), "-trimpath=true") {
			t.Errorf("%s is not a static, trimmed build:\n%s", name, info)
		}
	}
	if err := os.Symlink("pixelk6", filepath.Join(out, "k6")); err != nil {
		t.Fatal(err)
	}
	v, err := exec.Command(filepath.Join(out, "k6"), "version").Output()
	if err != nil || !strings.HasPrefix(string(v), "pixelk6 v") {
		t.Fatalf("k6 version: %v %q", err, v)
	}
}

// testRun is the part of the k6-operator's TestRun that the example sets.
type testRun struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Parallelism int `yaml:"parallelism"`
		Script      struct {
			ConfigMap struct {
				Name string `yaml:"name"`
				File string `yaml:"file"`
			} `yaml:"configMap"`
		} `yaml:"script"`
		Arguments string `yaml:"arguments"`
		Runner    struct {
			Image           string `yaml:"image"`
			SecurityContext struct {
				FSGroup int `yaml:"fsGroup"`
			} `yaml:"securityContext"`
			Volumes []struct {
				Name                  string `yaml:"name"`
				PersistentVolumeClaim struct {
					ClaimName string `yaml:"claimName"`
				} `yaml:"persistentVolumeClaim"`
			} `yaml:"volumes"`
			VolumeMounts []struct {
				Name      string `yaml:"name"`
				MountPath string `yaml:"mountPath"`
			} `yaml:"volumeMounts"`
		} `yaml:"runner"`
	} `yaml:"spec"`
}

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "examples", "kubernetes", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(false)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestKubernetesExample: examples/kubernetes is a TestRun for the k6-operator with
// pixelk6's image as its runner, parallelism 4, the script from a ConfigMap and one
// --out json file per runner on a shared volume; and the operator's initializer step
// (`k6 archive` with the arguments the operator keeps, then `k6 inspect
// --execution-requirements`) passes on its script.
func TestKubernetesExample(t *testing.T) {
	var tr testRun
	readYAML(t, "testrun.yaml", &tr)
	s := tr.Spec
	if tr.APIVersion != "k6.io/v1alpha1" || tr.Kind != "TestRun" || tr.Metadata.Name == "" {
		t.Fatalf("not a TestRun: %+v", tr)
	}
	if s.Parallelism != 4 || s.Script.ConfigMap.Name == "" || s.Script.ConfigMap.File != "test.js" {
		t.Fatalf("spec %+v", s)
	}
	if !strings.Contains(s.Runner.Image, "pixelk6") || s.Runner.SecurityContext.FSGroup != 12345 {
		t.Fatalf("runner %+v", s.Runner)
	}
	// The operator drops `--out VALUE` (two tokens) from the initializer's archive
	// command; `--out=VALUE` would reach `k6 archive` and fail it.
	m := regexp.MustCompile(`--out json=(\S+)/\$\{HOSTNAME\}\.json(\.gz)?(\s|$)`).FindStringSubmatch(s.Arguments)
	if m == nil || strings.Contains(s.Arguments, "--out=") {
		t.Fatalf("arguments %q: want `--out json=DIR/${HOSTNAME}.json[.gz]`", s.Arguments)
	}
	if len(s.Runner.Volumes) != 1 || len(s.Runner.VolumeMounts) != 1 || s.Runner.VolumeMounts[0].MountPath != m[1] ||
		s.Runner.VolumeMounts[0].Name != s.Runner.Volumes[0].Name {
		t.Fatalf("the runners do not mount %s: %+v", m[1], s.Runner)
	}
	claim := s.Runner.Volumes[0].PersistentVolumeClaim.ClaimName
	var pvc struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			AccessModes []string `yaml:"accessModes"`
		} `yaml:"spec"`
	}
	readYAML(t, "results-pvc.yaml", &pvc)
	if pvc.Kind != "PersistentVolumeClaim" || pvc.Metadata.Name != claim || len(pvc.Spec.AccessModes) != 1 || pvc.Spec.AccessModes[0] != "ReadWriteMany" {
		t.Fatalf("results-pvc.yaml %+v does not define the claim %q (ReadWriteMany)", pvc, claim)
	}
	var reader struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Containers []struct {
				Image string `yaml:"image"`
			} `yaml:"containers"`
			Volumes []struct {
				PersistentVolumeClaim struct {
					ClaimName string `yaml:"claimName"`
				} `yaml:"persistentVolumeClaim"`
			} `yaml:"volumes"`
		} `yaml:"spec"`
	}
	readYAML(t, "results-reader.yaml", &reader)
	if reader.Kind != "Pod" || len(reader.Spec.Containers) != 1 || reader.Spec.Containers[0].Image != s.Runner.Image ||
		len(reader.Spec.Volumes) != 1 || reader.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != claim {
		t.Fatalf("results-reader.yaml %+v", reader)
	}

	// The initializer: archive with the arguments the operator keeps (all but --out VALUE).
	args := strings.Fields(s.Arguments)
	var kept []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--out" || args[i] == "-o" {
			i++
			continue
		}
		kept = append(kept, args[i])
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "test.js.archived.tar")
	script := filepath.Join(repoRoot, "examples", "kubernetes", s.Script.ConfigMap.File)
	if r := run(t, dir, timeoutShort, nil, "pixelk6", append([]string{"archive", script, "-O", archive}, kept...)...); r.Code != 0 {
		t.Fatalf("k6 archive: exit %d\n%s", r.Code, r.Stderr)
	}
	r := run(t, dir, timeoutShort, nil, "pixelk6", "inspect", "--execution-requirements", archive)
	if r.Code != 0 || strings.Contains(r.Stderr, "level=error") {
		t.Fatalf("k6 inspect: exit %d\n%s", r.Code, r.Stderr)
	}
	var req struct {
		MaxVUs        int    `json:"maxVUs"`
		TotalDuration string `json:"totalDuration"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &req); err != nil || req.MaxVUs != 40 || req.TotalDuration != "2m30s" {
		t.Fatalf("execution requirements %+v (%v)\n%s", req, err, r.Stdout)
	}
}
