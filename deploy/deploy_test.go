// Package deploy holds the compose deployment's assets (CockroachDB logging and init, Kafka,
// ClickHouse and Grafana configuration, the demo traffic generator) and this test, which
// validates them without a Docker engine: no container is started here.
//
// What it checks:
//   - every roachwatch config under configs/compose/ loads with config.Load (the binaries' own
//     loading and validation), also with the ROACHWATCH_* overrides docker-compose.yml sets,
//     and every such variable names a real config key;
//   - the Dockerfile's `go build` line builds (same env, flags and packages, into a temp dir);
//   - deploy/cockroach/logs.yaml names only CockroachDB channels and documented keys, and
//     writes the channels roachwatch needs in json with redactable markers and no redaction;
//   - docker-compose.yml references only files that exist, pins every image (no latest),
//     declares every named volume, and passes --config files that exist;
//   - the Grafana dashboard queries only analyst views that the ClickHouse migrations create.
//
// scripts/check-compose.sh adds `docker-compose config -q` (Debian's docker-compose 1.29).
package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"roachwatch/internal/config"
)

const root = ".." // the repository root, seen from deploy/

func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// --- docker-compose.yml ----------------------------------------------------------------------

type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string            `yaml:"image"`
	Build       any               `yaml:"build"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Profiles    []string          `yaml:"profiles"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	if err := yaml.Unmarshal(readFile(t, "docker-compose.yml"), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(c.Services) == 0 {
		t.Fatal("docker-compose.yml: no services")
	}
	return c
}

// interpolate resolves ${VAR:-default} the way compose does when VAR is unset.
var interp = regexp.MustCompile(`\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}`)

func interpolate(s string) string {
	return interp.ReplaceAllString(s, "$2")
}

func TestComposeImagesPinned(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if s.Image == "" {
			if s.Build == nil {
				t.Errorf("service %s: neither image nor build", name)
			}
			continue
		}
		if s.Build != nil {
			continue // built here from the Dockerfile; the name is local
		}
		ref := s.Image
		if i := strings.LastIndex(ref, "@"); i >= 0 {
			continue // pinned by digest
		}
		slash := strings.LastIndex(ref, "/")
		colon := strings.LastIndex(ref, ":")
		if colon < slash+1 {
			t.Errorf("service %s: image %q has no tag (pin a version)", name, ref)
			continue
		}
		tag := ref[colon+1:]
		if tag == "" || tag == "latest" || !regexp.MustCompile(`\d`).MatchString(tag) {
			t.Errorf("service %s: image %q is not pinned to a version", name, ref)
		}
	}
}

func TestComposeReferencesExist(t *testing.T) {
	c := loadCompose(t)
	declared := map[string]bool{}
	for v := range c.Volumes {
		declared[v] = true
	}
	// Container paths backed by a repository directory, per service (from the bind mounts),
	// to resolve script and config paths used in entrypoint/command.
	for name, s := range c.Services {
		mounts := map[string]string{} // container path -> repository path
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			src := parts[0]
			switch {
			case strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../") || strings.HasPrefix(src, "/"):
				if strings.HasPrefix(src, "/") {
					t.Errorf("service %s: absolute host path %q: use a path in the repository", name, src)
					continue
				}
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("service %s: mounts %s, which does not exist in the repository", name, src)
				}
				if len(parts) > 1 {
					mounts[parts[1]] = src
				}
			default:
				if !declared[src] {
					t.Errorf("service %s: named volume %q is not declared under volumes:", name, src)
				}
			}
		}
		if s.Build != nil {
			ctx, dockerfile := ".", "Dockerfile"
			if m, ok := s.Build.(map[string]any); ok {
				if v, ok := m["context"].(string); ok {
					ctx = v
				}
				if v, ok := m["dockerfile"].(string); ok {
					dockerfile = v
				}
			} else if v, ok := s.Build.(string); ok {
				ctx = v
			}
			if _, err := os.Stat(filepath.Join(root, ctx, dockerfile)); err != nil {
				t.Errorf("service %s: build %s/%s: %v", name, ctx, dockerfile, err)
			}
		}
		// Every argument that is a path under a bind mount must exist in the repository.
		for _, arg := range slices.Concat(s.Entrypoint, s.Command) {
			for dst, src := range mounts {
				if strings.HasPrefix(arg, dst+"/") || arg == dst {
					rel := filepath.Join(src, strings.TrimPrefix(arg, dst))
					if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
						t.Errorf("service %s: %s refers to %s, which does not exist", name, arg, rel)
					}
				}
			}
		}
	}
	// Files the scripts read inside the containers.
	for _, f := range []string{"deploy/cockroach/logs.yaml", "deploy/cockroach/init.sql", "deploy/cockroach/start-node.sh",
		"deploy/cockroach/init-certs.sh", "deploy/cockroach/init-cluster.sh", "deploy/kafka/client-ssl.properties"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Error(err)
		}
	}
}

// --- roachwatch configs --------------------------------------------------------------------

func composeConfigs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "configs", "compose", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no configs/compose/*.yaml (%v)", err)
	}
	return files
}

func TestComposeConfigsLoad(t *testing.T) {
	for _, f := range composeConfigs(t) {
		if _, err := config.Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestComposeConfigsWithServiceEnv loads the config every roachwatch service mounts, with that
// service's ROACHWATCH_* environment (compose defaults), and checks each variable names a key.
func TestComposeConfigsWithServiceEnv(t *testing.T) {
	keys := map[string]bool{}
	for _, k := range config.Keys() {
		keys[config.EnvPrefix+"_"+strings.ToUpper(strings.ReplaceAll(k, ".", "_"))] = true
	}
	c := loadCompose(t)
	checked := 0
	for name, s := range c.Services {
		args := slices.Concat(s.Entrypoint, s.Command)
		i := slices.Index(args, "--config")
		if i < 0 || i+1 >= len(args) {
			continue
		}
		const mountDir = "/etc/roachwatch/"
		if !strings.HasPrefix(args[i+1], mountDir) {
			t.Errorf("service %s: --config %s is not under %s (configs/compose)", name, args[i+1], mountDir)
			continue
		}
		path := filepath.Join(root, "configs", "compose", strings.TrimPrefix(args[i+1], mountDir))
		t.Run(name, func(t *testing.T) {
			for k, v := range s.Environment {
				if !strings.HasPrefix(k, config.EnvPrefix+"_") {
					continue
				}
				if !keys[k] {
					t.Errorf("%s: no config key behind this variable", k)
				}
				t.Setenv(k, interpolate(v))
			}
			if _, err := config.Load(path); err != nil {
				t.Errorf("%s with the service's environment: %v", path, err)
			}
		})
		checked++
	}
	if checked < 3 {
		t.Errorf("only %d services pass --config; expected ingest, migrate and analyze", checked)
	}
}

// --- Dockerfile ------------------------------------------------------------------------------

// goBuildLines returns the `go build` commands of the Dockerfile's RUN instructions
// (continuation lines joined).
func goBuildLines(t *testing.T) []string {
	t.Helper()
	text := strings.ReplaceAll(string(readFile(t, "Dockerfile")), "\\\n", " ")
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "RUN ") && strings.Contains(line, "go build") {
			out = append(out, strings.TrimSpace(strings.TrimPrefix(line, "RUN ")))
		}
	}
	return out
}

// shellWords splits a simple shell command: whitespace, single and double quotes.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

func TestDockerfileGoBuild(t *testing.T) {
	lines := goBuildLines(t)
	if len(lines) != 1 {
		t.Fatalf("Dockerfile: want exactly one RUN ... go build line, found %d", len(lines))
	}
	words := shellWords(lines[0])
	var env []string
	i := 0
	for ; i < len(words) && strings.Contains(words[i], "=") && words[i] != "go"; i++ {
		env = append(env, words[i])
	}
	if i+1 >= len(words) || words[i] != "go" || words[i+1] != "build" {
		t.Fatalf("Dockerfile: cannot parse %q", lines[0])
	}
	args := words[i+2:]
	// The flags the image promises: static, trimmed paths, stripped.
	for _, want := range []string{"-trimpath", "-ldflags=-s -w"} {
		if !slices.Contains(args, want) {
			t.Errorf("Dockerfile go build lacks %q: %q", want, args)
		}
	}
	if !slices.Contains(env, "CGO_ENABLED=0") {
		t.Errorf("Dockerfile go build is not CGO_ENABLED=0: %q", env)
	}
	var pkgs []string
	for j := 0; j < len(args); j++ {
		if args[j] == "-o" {
			args[j+1] = t.TempDir() + string(filepath.Separator)
			j++
			continue
		}
		if strings.HasPrefix(args[j], "./") {
			pkgs = append(pkgs, args[j])
		}
	}
	for _, want := range []string{"./cmd/ingest", "./cmd/analyze", "./deploy/demo-traffic", "./deploy/composetool"} {
		if !slices.Contains(pkgs, want) {
			t.Errorf("Dockerfile go build does not build %s", want)
		}
	}
	if testing.Short() {
		t.Skip("-short: flags and packages checked, the build itself skipped")
	}
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s (as in the Dockerfile): %v\n%s", strings.Join(args, " "), err, out)
	}
}

// --- CockroachDB logging YAML -----------------------------------------------------------------

// Channels of CockroachDB v23-v25 (log-formats.md §1.1). CHANGEFEED and KV_EXEC (v25.4+) are
// left out on purpose: the compose cluster runs v24.3, which would reject them.
var crdbChannels = []string{"DEV", "OPS", "HEALTH", "STORAGE", "SESSIONS", "SQL_SCHEMA", "USER_ADMIN", "PRIVILEGES",
	"SENSITIVE_ACCESS", "SQL_EXEC", "SQL_PERF", "SQL_INTERNAL_PERF", "TELEMETRY", "KV_DISTRIBUTION"}

var crdbSeverities = []string{"INFO", "WARNING", "ERROR", "FATAL", "NONE"}

// Keys CockroachDB documents for its logging YAML (configure-logs, log-formats.md §1).
var (
	crdbTopKeys = []string{"file-defaults", "fluent-defaults", "http-defaults", "sinks", "capture-stray-errors"}
	// Common to every sink and to the *-defaults sections.
	crdbCommonSinkKeys = []string{"channels", "filter", "format", "format-options", "redact", "redactable", "exit-on-error", "auditable", "buffering"}
	crdbFileKeys       = []string{"dir", "max-file-size", "max-group-size", "buffered-writes", "file-permissions"}
	crdbFluentKeys     = []string{"address", "net"}
	crdbHTTPKeys       = []string{"address", "method", "unsafe-tls", "timeout", "disable-keep-alives", "compression", "headers", "file-based-headers"}
	crdbStderrKeys     = []string{"no-color"}
	crdbSinkKinds      = []string{"file-groups", "fluent-servers", "http-servers", "stderr"}
	crdbStrayKeys      = []string{"enable", "dir", "max-group-size"}
	crdbFormats        = []string{"json", "json-compact", "json-fluent", "json-fluent-compact", "crdb-v2", "crdb-v2-tty", "crdb-v1", "crdb-v1-count", "crdb-v1-tty", "crdb-v1-tty-count"}
)

func checkKeys(t *testing.T, where string, m map[string]any, allowed ...[]string) {
	t.Helper()
	for k := range m {
		ok := false
		for _, a := range allowed {
			if slices.Contains(a, k) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("logs.yaml %s: key %q is not a documented CockroachDB logging key", where, k)
		}
	}
}

// channelSelection parses a `channels:` value: a list of names, a string ("all",
// "all except [A, B]", "A, B" or "[A, B]"), or a map severity -> one of those. It returns the
// channels selected at INFO (explicitly named; "all" expands) and reports unknown names.
func channelSelection(t *testing.T, where string, v any) []string {
	t.Helper()
	names := func(s string) []string {
		s = strings.Trim(strings.TrimSpace(s), "[]")
		var out []string
		for _, n := range strings.Split(s, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
		return out
	}
	check := func(list []string) []string {
		for _, n := range list {
			if !slices.Contains(crdbChannels, strings.ToUpper(n)) {
				t.Errorf("logs.yaml %s: unknown channel %q", where, n)
			}
		}
		return list
	}
	switch x := v.(type) {
	case []any:
		var list []string
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				t.Errorf("logs.yaml %s: channel %v is not a name", where, e)
				continue
			}
			list = append(list, s)
		}
		return check(list)
	case string:
		s := strings.TrimSpace(x)
		if strings.EqualFold(s, "all") {
			return crdbChannels
		}
		if rest, ok := strings.CutPrefix(strings.ToLower(s), "all except "); ok {
			ex := check(names(strings.ToUpper(rest)))
			var out []string
			for _, c := range crdbChannels {
				if !slices.Contains(ex, c) {
					out = append(out, c)
				}
			}
			return out
		}
		return check(names(s))
	case map[string]any:
		var out []string
		for sev, sel := range x {
			if !slices.Contains(crdbSeverities, strings.ToUpper(sev)) {
				t.Errorf("logs.yaml %s: %q is not a severity", where, sev)
			}
			got := channelSelection(t, where+"."+sev, sel)
			if strings.EqualFold(sev, "INFO") {
				out = append(out, got...)
			}
		}
		return out
	default:
		t.Errorf("logs.yaml %s: channels must be a list, a string or a severity map, got %T", where, v)
		return nil
	}
}

func asMap(t *testing.T, where string, v any) map[string]any {
	t.Helper()
	if v == nil {
		return map[string]any{}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("logs.yaml %s: want a mapping, got %T", where, v)
	}
	return m
}

func checkSinkValues(t *testing.T, where string, m map[string]any) {
	t.Helper()
	if f, ok := m["format"].(string); ok && !slices.Contains(crdbFormats, f) {
		t.Errorf("logs.yaml %s: format %q is not a CockroachDB log format", where, f)
	}
	if f, ok := m["filter"].(string); ok && !slices.Contains(crdbSeverities, strings.ToUpper(f)) {
		t.Errorf("logs.yaml %s: filter %q is not a severity", where, f)
	}
	for _, b := range []string{"redact", "redactable", "exit-on-error", "auditable", "buffered-writes", "no-color"} {
		if v, ok := m[b]; ok {
			if _, isBool := v.(bool); !isBool {
				t.Errorf("logs.yaml %s: %s must be true or false, got %v", where, b, v)
			}
		}
	}
}

func TestCockroachLogConfig(t *testing.T) {
	var doc map[string]any
	if err := yaml.Unmarshal(readFile(t, "deploy/cockroach/logs.yaml"), &doc); err != nil {
		t.Fatalf("deploy/cockroach/logs.yaml: %v", err)
	}
	checkKeys(t, "top level", doc, crdbTopKeys)
	fileDefaults := asMap(t, "file-defaults", doc["file-defaults"])
	checkKeys(t, "file-defaults", fileDefaults, crdbCommonSinkKeys, crdbFileKeys)
	checkSinkValues(t, "file-defaults", fileDefaults)
	checkKeys(t, "fluent-defaults", asMap(t, "fluent-defaults", doc["fluent-defaults"]), crdbCommonSinkKeys, crdbFluentKeys)
	checkKeys(t, "http-defaults", asMap(t, "http-defaults", doc["http-defaults"]), crdbCommonSinkKeys, crdbHTTPKeys)
	checkKeys(t, "capture-stray-errors", asMap(t, "capture-stray-errors", doc["capture-stray-errors"]), crdbStrayKeys)

	sinks := asMap(t, "sinks", doc["sinks"])
	checkKeys(t, "sinks", sinks, crdbSinkKinds)

	// Effective settings per file group (group value, else file-defaults) for the channels
	// roachwatch needs.
	need := map[string]bool{"SESSIONS": false, "SENSITIVE_ACCESS": false, "SQL_EXEC": false, "TELEMETRY": false,
		"PRIVILEGES": false, "USER_ADMIN": false, "OPS": false}
	groups := asMap(t, "sinks.file-groups", sinks["file-groups"])
	if len(groups) == 0 {
		t.Fatal("logs.yaml: no file-groups")
	}
	for name, g := range groups {
		where := "sinks.file-groups." + name
		gm := asMap(t, where, g)
		checkKeys(t, where, gm, crdbCommonSinkKeys, crdbFileKeys)
		checkSinkValues(t, where, gm)
		eff := func(k string) any {
			if v, ok := gm[k]; ok {
				return v
			}
			return fileDefaults[k]
		}
		chans := channelSelection(t, where+".channels", gm["channels"])
		for _, c := range chans {
			if _, wanted := need[c]; !wanted {
				continue
			}
			need[c] = true
			if eff("format") != "json" {
				t.Errorf("logs.yaml %s: %s must be written in format json (verbose: it carries the channel name), got %v", where, c, eff("format"))
			}
			if eff("redactable") != true {
				t.Errorf("logs.yaml %s: %s needs redactable: true (the ‹ › markers)", where, c)
			}
			if eff("redact") != false {
				t.Errorf("logs.yaml %s: %s needs redact: false (redact: true destroys the values the detectors classify)", where, c)
			}
			if d, _ := eff("dir").(string); !strings.HasPrefix(d, "/crdb-logs/") {
				t.Errorf("logs.yaml %s: %s must be written under /crdb-logs (the volume ingest tails), dir is %q", where, c, d)
			}
		}
	}
	for c, ok := range need {
		if !ok {
			t.Errorf("logs.yaml: channel %s is not written to any file group at INFO", c)
		}
	}
	for kind, v := range sinks {
		if kind == "file-groups" {
			continue
		}
		if kind == "stderr" {
			m := asMap(t, "sinks.stderr", v)
			checkKeys(t, "sinks.stderr", m, crdbCommonSinkKeys, crdbStderrKeys)
			checkSinkValues(t, "sinks.stderr", m)
			channelSelection(t, "sinks.stderr.channels", m["channels"])
			continue
		}
		extra := crdbFluentKeys
		if kind == "http-servers" {
			extra = crdbHTTPKeys
		}
		for name, s := range asMap(t, "sinks."+kind, v) {
			m := asMap(t, "sinks."+kind+"."+name, s)
			checkKeys(t, "sinks."+kind+"."+name, m, crdbCommonSinkKeys, extra)
			checkSinkValues(t, "sinks."+kind+"."+name, m)
			channelSelection(t, "sinks."+kind+"."+name+".channels", m["channels"])
		}
	}
}

// The start script substitutes the node name into the logging YAML; the placeholder must be
// there, and the script must pass the YAML with --log.
func TestStartNodeRendersLogConfig(t *testing.T) {
	yml := string(readFile(t, "deploy/cockroach/logs.yaml"))
	sh := string(readFile(t, "deploy/cockroach/start-node.sh"))
	if !strings.Contains(yml, "__NODE__") || !strings.Contains(sh, "__NODE__") || !strings.Contains(sh, `--log="$log_yaml"`) {
		t.Error("start-node.sh and logs.yaml disagree on the __NODE__ placeholder or --log")
	}
}

// --- Grafana -------------------------------------------------------------------------------

func TestGrafanaDashboardUsesExistingViews(t *testing.T) {
	var views []string
	files, _ := filepath.Glob(filepath.Join(root, "schemas", "clickhouse", "*.sql"))
	re := regexp.MustCompile(`CREATE VIEW IF NOT EXISTS \{\{db\}\}\.(\w+)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			views = append(views, m[1])
		}
	}
	if len(views) == 0 {
		t.Fatal("no analyst views found in schemas/clickhouse")
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				RawSQL     string `json:"rawSql"`
				Datasource struct {
					UID string `json:"uid"`
				} `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(readFile(t, "deploy/grafana/dashboards/roachwatch.json"), &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	ds := string(readFile(t, "deploy/grafana/provisioning/datasources/clickhouse.yaml"))
	from := regexp.MustCompile(`(?i)\bFROM\s+roachwatch\.(\w+)`)
	for _, p := range dash.Panels {
		for _, q := range p.Targets {
			if !strings.Contains(ds, "uid: "+q.Datasource.UID) {
				t.Errorf("panel %q: data source uid %q is not provisioned", p.Title, q.Datasource.UID)
			}
			ms := from.FindAllStringSubmatch(q.RawSQL, -1)
			if len(ms) == 0 {
				t.Errorf("panel %q: query reads no roachwatch view", p.Title)
			}
			for _, m := range ms {
				if !slices.Contains(views, m[1]) {
					t.Errorf("panel %q: roachwatch.%s is not an analyst view of schemas/clickhouse (%v)", p.Title, m[1], views)
				}
			}
		}
	}
}
