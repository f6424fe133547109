package builder

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
)

// With is one --with: an extension's Go module path (or the path of a package in a module),
// the version to take ("" for the latest, or when Replace alone decides), and a replacement:
// a local directory or another module's path@version.
type With struct {
	Path, Version string
	Replace       Target
}

// Target is what a module is replaced by: a local directory (Dir) or a module at a version
// (Path, Version). The zero Target is no replacement.
type Target struct {
	Dir           string
	Path, Version string
}

// IsZero reports whether t replaces nothing.
func (t Target) IsZero() bool { return t == Target{} }

// String is t as go.mod writes it.
func (t Target) String() string {
	if t.Dir != "" {
		return t.Dir
	}
	return t.Path + "@" + t.Version
}

// Replace is one --replace: a module (at one version, or at every version when Version is
// "") replaced by New.
type Replace struct {
	Path, Version string
	New           Target
}

// ParseWith parses xk6's --with syntax, MODULE[@VERSION][=REPLACEMENT]:
//
//	github.com/acme/xk6-foo                      the latest version
//	github.com/acme/xk6-foo@v1.2.0               that version (or any query go get takes)
//	github.com/acme/xk6-foo=../xk6-foo           a local checkout (relative to the current directory)
//	github.com/acme/xk6-foo@v1.2.0=../xk6-foo    required at v1.2.0, built from the checkout
//	github.com/acme/xk6-foo=github.com/me/fork@v1.2.1   another module
func ParseWith(s string) (With, error) {
	left, right, hasRepl := strings.Cut(s, "=")
	path, version, err := splitModule(left)
	if err != nil {
		return With{}, fmt.Errorf("--with %q: %w", s, err)
	}
	w := With{Path: path, Version: version}
	if hasRepl {
		if w.Replace, err = parseTarget(right); err != nil {
			return With{}, fmt.Errorf("--with %q: %w", s, err)
		}
	}
	return w, nil
}

// ParseReplace parses --replace MODULE[@VERSION]=REPLACEMENT, where REPLACEMENT is a local
// directory or MODULE@VERSION (go mod edit -replace's syntax).
func ParseReplace(s string) (Replace, error) {
	left, right, ok := strings.Cut(s, "=")
	if !ok {
		return Replace{}, fmt.Errorf("--replace %q: want MODULE[@VERSION]=REPLACEMENT", s)
	}
	path, version, err := splitModule(left)
	if err != nil {
		return Replace{}, fmt.Errorf("--replace %q: %w", s, err)
	}
	t, err := parseTarget(right)
	if err != nil {
		return Replace{}, fmt.Errorf("--replace %q: %w", s, err)
	}
	return Replace{Path: path, Version: version, New: t}, nil
}

// splitModule splits PATH[@VERSION] and checks PATH is a valid module or package path.
func splitModule(s string) (path, version string, err error) {
	path, version, hasVersion := strings.Cut(s, "@")
	if path == "" {
		return "", "", fmt.Errorf("no module path")
	}
	if hasVersion && version == "" {
		return "", "", fmt.Errorf("empty version after @")
	}
	if err := module.CheckImportPath(path); err != nil {
		return "", "", err
	}
	return path, version, nil
}

// parseTarget parses a replacement: a directory (it starts with ".", "/" or is an absolute
// path, as go.mod requires) or MODULE@VERSION.
func parseTarget(s string) (Target, error) {
	switch {
	case s == "":
		return Target{}, fmt.Errorf("empty replacement after =")
	case isDir(s):
		abs, err := filepath.Abs(s)
		if err != nil {
			return Target{}, err
		}
		return Target{Dir: abs}, nil
	}
	path, version, err := splitModule(s)
	if err != nil {
		return Target{}, fmt.Errorf("replacement %q: %w (a local directory starts with ./, ../ or /)", s, err)
	}
	if version == "" {
		return Target{}, fmt.Errorf("replacement %q: a module replacement needs @VERSION (a local directory starts with ./, ../ or /)", s)
	}
	return Target{Path: path, Version: version}, nil
}

// isDir reports whether a replacement names a local directory, by go.mod's rule: a path
// that is absolute or starts with ./ or ../ (or is . or ..).
func isDir(s string) bool {
	return filepath.IsAbs(s) || s == "." || s == ".." ||
		strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") ||
		strings.HasPrefix(s, `.\`) || strings.HasPrefix(s, `..\`)
}
