// Package config reads claimcheck's configuration file: defaults for every
// command's flags, with named profiles. The file is .claimcheck.yaml in the
// working directory or, failing that, claimcheck/config.yaml under the
// user's configuration directory. Keys are flag names (client_id or
// client-id); a profile's keys override the top-level ones. Secrets are never
// written in the file: client_secret, password and refresh_token are refused
// with the line that holds them, and NAME_env: VAR reads one from the
// environment variable VAR instead. Every profile is checked when the file
// is loaded, whichever one is chosen.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/yamlfile"
)

// LocalName is the configuration file looked for in the working directory.
const LocalName = ".claimcheck.yaml"

// Setting is one key of the file.
type Setting struct {
	// Flag is the flag the key sets, e.g. "client-id".
	Flag string
	// Values are the value, or the elements of a list.
	Values []string
	// FromEnv names the environment variable holding the value (a key
	// written NAME_env); Values is empty then.
	FromEnv string
	// Line is where the key is in the file.
	Line int
	// Profile is the profile the key is in, "" for the top level.
	Profile string
}

// File is a loaded configuration: the top level with the chosen profile
// laid over it.
type File struct {
	Path     string
	Profile  string
	Settings []Setting
	// Unselected are the settings of the profiles not chosen. They are
	// never applied, but a file is one whole: Parse checks them as it
	// checks the chosen ones, and a caller that knows more rules (which
	// keys are flags) checks them too, so that a mistake in a profile is
	// found when the file is written, not on the day the profile is used.
	Unselected []Setting
}

// Where reports where a setting came from, for messages:
// "path:line: profiles.NAME.key", or "path:line: key" at the top level,
// with key as the flag name spelt with underscores.
func (f *File) Where(s Setting) string {
	where := fmt.Sprintf("%s:%d: ", f.Path, s.Line)
	if s.Profile != "" {
		where += "profiles." + s.Profile + "."
	}
	return where + strings.ReplaceAll(s.Flag, "-", "_")
}

// secrets may never be written inline.
var secrets = map[string]bool{"client-secret": true, "password": true, "refresh-token": true}

// fileRefs name a file whose content is a secret (a private key): the
// file is named, its content never written here.
var fileRefs = map[string]bool{"client-key": true, "client-cert": true, "dpop-key": true}

// inlineKey says whether s looks like key material rather than a file
// name: PEM armour, JSON, or a line break.
func inlineKey(s string) bool {
	t := strings.TrimSpace(s)
	return strings.Contains(t, "-----BEGIN") || strings.HasPrefix(t, "{") || strings.ContainsAny(s, "\r\n")
}

// Find returns the path of the configuration file to use, or "" when there
// is none: LocalName in dir, else claimcheck/config.yaml under userDir.
func Find(dir, userDir string) (string, error) {
	candidates := []string{filepath.Join(dir, LocalName)}
	if userDir != "" {
		candidates = append(candidates, filepath.Join(userDir, "claimcheck", "config.yaml"))
	}
	for _, p := range candidates {
		st, err := os.Stat(p)
		switch {
		case err == nil && st.Mode().IsRegular():
			return p, nil
		case err == nil:
			return "", failure.New(failure.Usage, p, "not a regular file")
		case !errors.Is(err, fs.ErrNotExist):
			return "", failure.New(failure.Usage, "configuration file", "%v", err)
		}
	}
	return "", nil
}

// UserDir is os.UserConfigDir computed from getenv on Unix systems (so that
// tests can set it), and os.UserConfigDir elsewhere; "" when unknown.
func UserDir(getenv func(string) string) string {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "plan9":
		d, _ := os.UserConfigDir()
		return d
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config")
	}
	return ""
}

// fileFormat tells yamlfile what a configuration file is.
var fileFormat = yamlfile.Format{Kind: "configuration file"}

// Load reads path and selects profile ("" for none). Every problem is a
// failure.Usage error naming the file, the line and the key; a file larger
// than yamlfile.MaxSize is refused without being read.
func Load(path, profile string) (*File, error) {
	b, err := yamlfile.Read(path, fileFormat)
	if err != nil {
		return nil, err
	}
	return Parse(path, b, profile)
}

// Parse parses a configuration file's contents; path is used in messages.
func Parse(path string, data []byte, profile string) (*File, error) {
	f := &File{Path: path, Profile: profile}
	doc, err := yamlfile.Parse(path, data, fileFormat)
	if err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		if profile != "" {
			return nil, failure.New(failure.Usage, "--profile", "%s is empty: no profile %q", path, profile)
		}
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, failure.New(failure.Usage, fmt.Sprintf("%s:%d", path, root.Line), "the file must be a mapping of flag names to values")
	}
	top, profiles, err := f.settings(root, "", true)
	if err != nil {
		return nil, err
	}
	merged := map[string]Setting{}
	for _, s := range top {
		merged[s.Flag] = s
	}
	// Every profile is checked, chosen or not: one spelt wrong would
	// otherwise wait, unseen, for the run that uses it.
	var names []string
	found := false
	if profiles != nil {
		for i := 0; i+1 < len(profiles.Content); i += 2 {
			name, pn := profiles.Content[i].Value, profiles.Content[i+1]
			names = append(names, name)
			if pn.Kind != yaml.MappingNode {
				return nil, failure.New(failure.Usage, fmt.Sprintf("%s:%d: profiles.%s", path, pn.Line, name), "must be a mapping of flag names to values")
			}
			ps, _, err := f.settings(pn, "profiles."+name+".", false)
			if err != nil {
				return nil, err
			}
			for i := range ps {
				ps[i].Profile = name
			}
			if name != profile {
				f.Unselected = append(f.Unselected, ps...)
				continue
			}
			found = true
			for _, s := range ps {
				merged[s.Flag] = s
			}
		}
	}
	if profile != "" && !found {
		sort.Strings(names)
		return nil, failure.New(failure.Usage, "--profile", "%s has no profile %q (it has: %s)", path, profile, orNone(names))
	}
	for _, s := range merged {
		f.Settings = append(f.Settings, s)
	}
	sort.Slice(f.Settings, func(i, j int) bool { return f.Settings[i].Line < f.Settings[j].Line })
	return f, nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (f *File) settings(m *yaml.Node, prefix string, top bool) ([]Setting, *yaml.Node, error) {
	var out []Setting
	var profiles *yaml.Node
	// yamlfile refuses a key written twice; these are one flag spelt twice
	// (client_id and client-id), of which Parse would keep the last.
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		where := fmt.Sprintf("%s:%d: %s%s", f.Path, k.Line, prefix, k.Value)
		flag := strings.ReplaceAll(k.Value, "_", "-")
		if fk, dup := first[flag]; dup {
			return nil, nil, failure.New(failure.Usage, where, "duplicate key %q (first at line %d as %q)", k.Value, fk.Line, fk.Value)
		}
		first[flag] = k
		if k.Value == "profiles" {
			if !top {
				return nil, nil, failure.New(failure.Usage, where, "profiles do not nest")
			}
			if v.Kind != yaml.MappingNode {
				return nil, nil, failure.New(failure.Usage, where, "must be a mapping of profile names to settings")
			}
			profiles = v
			continue
		}
		s := Setting{Line: k.Line}
		if name, ok := strings.CutSuffix(flag, "-env"); ok && secrets[name] {
			if v.Kind != yaml.ScalarNode || !isEnvName(v.Value) {
				return nil, nil, failure.New(failure.Usage, where, "must name an environment variable (letters, digits, _), not hold the secret itself")
			}
			s.Flag, s.FromEnv = name, v.Value
			out = append(out, s)
			continue
		}
		if secrets[flag] {
			return nil, nil, failure.New(failure.Usage, where, "secrets are never written in the configuration file; set CLAIMCHECK_%s or name a variable with %s_env: NAME",
				strings.ToUpper(strings.ReplaceAll(flag, "-", "_")), k.Value)
		}
		s.Flag = flag
		if fileRefs[flag] && v.Kind == yaml.ScalarNode && inlineKey(v.Value) {
			what := "key"
			if flag == "client-cert" {
				what = "certificate"
			}
			return nil, nil, failure.New(failure.Usage, where, "must name a file holding the %s; %s material is never written in the configuration file", what, what)
		}
		switch v.Kind {
		case yaml.ScalarNode:
			if v.Tag == "!!null" {
				return nil, nil, failure.New(failure.Usage, where, "has no value")
			}
			s.Values = []string{v.Value}
		case yaml.SequenceNode:
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					return nil, nil, failure.New(failure.Usage, where, "must be a value or a list of values")
				}
				s.Values = append(s.Values, e.Value)
			}
		default:
			return nil, nil, failure.New(failure.Usage, where, "must be a value or a list of values")
		}
		out = append(out, s)
	}
	return out, profiles, nil
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
