package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/internal/logfmt"
	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules/k6/secrets"
	"github.com/pixelk6/pixelk6/metrics"
)

// k6's archive format (what `k6 archive` writes and `k6 run archive.tar` reads): a tar with
//
//	metadata.json   {"type":"js","options":{...},"filename":"file:///dir/script.js",
//	                 "pwd":"file:///dir","env":{...},"compatibilityMode":"extended",
//	                 "k6version":"...","goos":"linux"}
//	data            the main script
//	file/dir/...    every local file the script loaded (modules, open()ed files), by
//	                absolute path; the main script's entry is a hard link to data
//	https/host/...  remote modules (https imports), by URL without the scheme: running the
//	                archive uses these and fetches nothing
//
// Home directories are anonymised (/home/<user>/ becomes /home/nobody/), as k6 does.

// archiveMeta is metadata.json.
type archiveMeta struct {
	Type              string            `json:"type"`
	Options           json.RawMessage   `json:"options"`
	Filename          string            `json:"filename"`
	Pwd               string            `json:"pwd"`
	Env               map[string]string `json:"env"`
	CompatibilityMode string            `json:"compatibilityMode"`
	K6Version         string            `json:"k6version"`
	Goos              string            `json:"goos"`
}

// archive is a read archive: its metadata, the main script's path and every file by its
// absolute path.
type archive struct {
	meta  archiveMeta
	main  string
	files map[string][]byte
}

// ReadFile serves the archive's files (js.LoadOptions.ReadFile).
func (a *archive) ReadFile(p string) ([]byte, error) {
	if b, ok := a.files[filepath.ToSlash(filepath.Clean(p))]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s is not in the archive: %w", p, os.ErrNotExist)
}

// Remote serves the archive's remote modules (js.LoadOptions.Remote): a run of an archive
// fetches nothing.
func (a *archive) Remote(_ context.Context, u string) ([]byte, error) {
	if b, ok := a.files[u]; ok && strings.HasPrefix(u, "https://") {
		return b, nil
	}
	return nil, fmt.Errorf("%s is not in the archive (a run of an archive fetches no module): %w", u, os.ErrNotExist)
}

// isArchive reports whether the file at p is a tar archive with k6's metadata.json.
func isArchive(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	hdr, err := tar.NewReader(f).Next()
	return err == nil && hdr.Name == "metadata.json"
}

// readArchive reads a k6 archive.
func readArchive(r io.Reader) (*archive, error) {
	a := &archive{files: map[string][]byte{}}
	tr := tar.NewReader(r)
	var data []byte
	var links []string // entries that are hard links to data
	sawMeta := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the archive: %w", err)
		}
		name := path.Clean(strings.ReplaceAll(hdr.Name, "\\", "/"))
		if hdr.Typeflag == tar.TypeLink && hdr.Linkname == "data" {
			links = append(links, name)
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading the archive's %s: %w", name, err)
		}
		switch name {
		case "metadata.json":
			if err := json.Unmarshal(b, &a.meta); err != nil {
				return nil, fmt.Errorf("the archive's metadata.json: %w", err)
			}
			sawMeta = true
			continue
		case "data":
			data = b
			continue
		}
		prefix, rest, ok := strings.Cut(name, "/")
		switch {
		case !ok:
		case prefix == "file":
			a.files["/"+rest] = b
		case prefix == "https":
			a.files["https://"+rest] = b
		default:
			return nil, fmt.Errorf("the archive has %s: an older k6 archive layout pixelk6 cannot read", name)
		}
	}
	if !sawMeta {
		return nil, errors.New("not a k6 archive: no metadata.json")
	}
	if a.meta.Type != "" && a.meta.Type != "js" {
		return nil, fmt.Errorf("archive of type %q: pixelk6 runs only js archives", a.meta.Type)
	}
	main, err := fileURLPath(a.meta.Filename)
	if err != nil {
		return nil, err
	}
	a.main = main
	if data != nil {
		a.files[main] = data
	}
	for _, l := range links {
		if strings.HasPrefix(l, "file/") {
			a.files["/"+strings.TrimPrefix(l, "file/")] = data
		}
	}
	if _, ok := a.files[main]; !ok {
		return nil, fmt.Errorf("the archive lacks its main script %s", main)
	}
	return a, nil
}

// fileURLPath is the path of a file:// URL (or of a plain absolute path, as old archives
// have).
func fileURLPath(s string) (string, error) {
	if strings.HasPrefix(s, "/") {
		return path.Clean(s), nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "file" {
		return "", fmt.Errorf("the archive's main script %q is not a local file", s)
	}
	return path.Clean(u.Path), nil
}

// fileURL is k6's file:// form of an absolute path.
func fileURL(p string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
}

// homeDirs are the directory names, compared without regard to case, under which k6's
// archives replace the next path element, a user name, with "nobody".
var homeDirs = []string{"users", "home", "documents and settings"}

// anonymise replaces the user's name in a home directory path as k6 does: the element
// after a first directory named as in homeDirs (after an optional Windows drive such as
// "/c"), however short, becomes "nobody"; the rest of the path is kept.
func anonymise(p string) string {
	drive, rest := "", p
	if len(p) >= 3 && p[0] == '/' && p[2] == '/' && ('a' <= p[1]|0x20 && p[1]|0x20 <= 'z') {
		drive, rest = p[:2], p[2:]
	}
	dir, after, ok := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	if !ok || !strings.HasPrefix(rest, "/") {
		return p
	}
	for _, h := range homeDirs {
		if !strings.EqualFold(dir, h) {
			continue
		}
		user, tail, more := strings.Cut(after, "/")
		if user == "" {
			return p
		}
		if more {
			return drive + "/" + dir + "/nobody/" + tail
		}
		return drive + "/" + dir + "/nobody"
	}
	return p
}

// recorder wraps a ReadFile and a remote module fetch and keeps every file they served, for
// the archive: local files by absolute path, remote modules by URL.
type recorder struct {
	read   func(string) ([]byte, error)
	remote func(context.Context, string) ([]byte, error)
	mu     sync.Mutex
	files  map[string][]byte
}

// Remote records a remote module (js.LoadOptions.Remote).
func (r *recorder) Remote(ctx context.Context, u string) ([]byte, error) {
	b, err := r.remote(ctx, u)
	if err == nil {
		r.mu.Lock()
		r.files[u] = b
		r.mu.Unlock()
	}
	return b, err
}

func (r *recorder) ReadFile(p string) ([]byte, error) {
	b, err := r.read(p)
	if err == nil {
		r.mu.Lock()
		r.files[filepath.ToSlash(filepath.Clean(p))] = b
		r.mu.Unlock()
	}
	return b, err
}

// writeArchive writes k6's archive of main (an absolute path) with the files read.
func writeArchive(w io.Writer, main string, files map[string][]byte, options json.RawMessage, env map[string]string, compat string) error {
	main = filepath.ToSlash(main)
	data, ok := files[main]
	if !ok {
		return fmt.Errorf("the main script %s was not read", main)
	}
	if compat == "" {
		compat = "extended"
	}
	if env == nil {
		env = map[string]string{}
	}
	meta := archiveMeta{
		Type: "js", Options: options, Filename: fileURL(anonymise(main)), Pwd: fileURL(anonymise(path.Dir(main))),
		Env: env, CompatibilityMode: compat, K6Version: "pixelk6 v" + Version, Goos: runtime.GOOS,
	}
	var mb bytes.Buffer
	enc := json.NewEncoder(&mb)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(meta); err != nil {
		return err
	}
	now := time.Now()
	tw := tar.NewWriter(w)
	put := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := put("metadata.json", mb.Bytes()); err != nil {
		return err
	}
	if err := put("data", data); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	dirs := map[string]bool{}
	for p := range files {
		names = append(names, p)
		if strings.HasPrefix(p, "https://") {
			continue
		}
		for d := path.Dir(anonymise(p)); d != "/" && d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	sort.Strings(names)
	dirList := make([]string, 0, len(dirs))
	for d := range dirs {
		dirList = append(dirList, d)
	}
	sort.Strings(dirList)
	for _, d := range dirList {
		if err := tw.WriteHeader(&tar.Header{Name: "file" + d, Mode: 0o755, ModTime: now, Typeflag: tar.TypeDir}); err != nil {
			return err
		}
	}
	for _, p := range names {
		name := "file" + anonymise(p)
		if rest, ok := strings.CutPrefix(p, "https://"); ok {
			name = "https/" + rest
		}
		var err error
		if p == main {
			err = tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: "data", ModTime: now})
		} else {
			err = put(name, files[p])
		}
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

// archiveOnlyRunFlags are `pixelk6 run` flags that say nothing an archive keeps: `pixelk6
// archive` refuses them rather than ignore them.
var archiveOnlyRunFlags = []string{"out", "console-output", "summary-export", "summary-mode", "no-summary", "no-thresholds", "no-usage-report"}

// archiveCmd is `pixelk6 archive [flags] script.js -O archive.tar`: it loads the script,
// consolidates the options of every tier as `run` would, and writes k6's archive of the
// script, every local file it loaded and the options, which k6 or pixelk6 then runs.
func archiveCmd(ctx context.Context, code *int, stdout, stderr io.Writer, d deps) *cobra.Command {
	rf := &runFlags{}
	var out string
	var toStdout, excludeEnv bool
	cmd := &cobra.Command{
		Use:   "archive [flags] script.js|-",
		Short: "Write a k6 archive of a script, its files and its options",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			var w io.Writer
			if toStdout {
				w = stdout
			}
			*code = writeArchiveCmd(ctx, cmd, rf, archiveDest{path: out, w: w, excludeEnv: excludeEnv}, a[0], stderr, d)
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVarP(&out, "archive-out", "O", "archive.tar", "the archive file to write")
	cmd.Flags().BoolVar(&toStdout, "stdout", false, "write the archive to standard output")
	cmd.Flags().BoolVar(&excludeEnv, "exclude-env-vars", false, "do not keep the -e variables in the archive")
	return cmd
}

// archiveDest is where `pixelk6 archive` writes: w when set (--stdout), else the file
// path; excludeEnv leaves the -e variables out of the archive (--exclude-env-vars).
type archiveDest struct {
	path       string
	w          io.Writer
	excludeEnv bool
}

func writeArchiveCmd(ctx context.Context, cmd *cobra.Command, rf *runFlags, dest archiveDest, scriptPath string, stderr io.Writer, d deps) int {
	logger := logfmt.New(stderr)
	fail := func(code int, err error) int {
		logger.Log("error", err.Error())
		return code
	}
	for _, f := range archiveOnlyRunFlags {
		if cmd.Flags().Changed(f) {
			return fail(engine.ExitInvalidConfig, fmt.Errorf("--%s is a flag of `pixelk6 run`: an archive does not keep it", f))
		}
	}
	procEnv := envMap(d.environ())
	flagOpts, err := rf.options(cmd)
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	envOpts, err := optionsFromEnv(procEnv)
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	fileOpts, err := configTier(rf.config, procEnv, logger)
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	pre := consolidate(tiers{file: fileOpts, env: envOpts, flags: flagOpts})
	// As in k6, the archive keeps the system environment only when asked to.
	env := map[string]string{}
	if pre.IncludeSystemEnv != nil && *pre.IncludeSystemEnv {
		for k, v := range procEnv {
			env[k] = v
		}
	}
	for _, kv := range rf.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fail(engine.ExitInvalidConfig, fmt.Errorf("invalid --env %q: want KEY=VALUE", kv))
		}
		env[k] = v
	}
	rec := &recorder{read: os.ReadFile, files: map[string][]byte{}}
	lo := js.LoadOptions{Env: env, Logger: logger, Registry: metrics.NewRegistry()}
	// the init context may read secrets; the archive keeps none of them
	secretSources, err := secrets.ParseSources(rf.secretSources, procEnv, os.ReadFile)
	if err != nil {
		return fail(engine.ExitGeneric, err)
	}
	if secretSources != nil {
		logger.Redact, lo.Secrets = secretSources.Redact, secretSources
	}
	if scriptPath == "-" {
		if scriptPath, lo, err = stdinScript(d.stdin, lo); err != nil {
			return fail(engine.ExitScriptError, err)
		}
	}
	rec.read = lo.ReadFile
	if rec.read == nil {
		rec.read = os.ReadFile
	}
	lo.ReadFile = rec.ReadFile
	rec.remote = lo.Remote
	if rec.remote == nil {
		rec.remote = js.FetchRemote(nil)
	}
	lo.Remote = rec.Remote
	if !filepath.IsAbs(scriptPath) {
		wd, err := os.Getwd()
		if err != nil {
			return fail(engine.ExitGeneric, err)
		}
		scriptPath = filepath.Join(wd, scriptPath)
	}
	ld, err := d.load(ctx, scriptPath, lo)
	if err != nil {
		return fail(engine.ExitScriptError, err)
	}
	if c, ok := ld.(io.Closer); ok {
		defer c.Close()
	}
	// The archive keeps the script's k6 options as written, those pixelk6 refuses to run
	// included: k6 may run the archive.
	scriptOpts, unknown, err := decodeOptionsLenient(ld.Options())
	warnUnknown(logger, unknown)
	if err != nil {
		return fail(engine.ExitInvalidConfig, fmt.Errorf("invalid script options: %w", err))
	}
	o := consolidate(tiers{file: fileOpts, script: scriptOpts, env: envOpts, flags: flagOpts})
	if _, err := newRunConfig(consolidate(tiers{defaults: defaultOptions(), script: o})); err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	opts, err := inspectJSON(o, false)
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, opts); err != nil {
		return fail(engine.ExitGeneric, err)
	}
	if dest.excludeEnv {
		env = nil
	}
	var buf bytes.Buffer
	if err := writeArchive(&buf, scriptPath, rec.files, compact.Bytes(), env, deref(o.CompatibilityMode)); err != nil {
		return fail(engine.ExitGeneric, fmt.Errorf("writing the archive: %w", err))
	}
	if dest.w != nil {
		_, err = dest.w.Write(buf.Bytes())
	} else {
		err = os.WriteFile(dest.path, buf.Bytes(), 0o644)
	}
	if err != nil {
		return fail(engine.ExitGeneric, fmt.Errorf("writing the archive: %w", err))
	}
	return 0
}
