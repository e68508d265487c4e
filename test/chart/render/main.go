// Command render renders a Helm chart's templates the way `helm template` does, for testing the
// chart without helm (Debian ships no helm binary). It uses the same template engine (Go
// text/template), the same function library (sprig v3) and helm's own additions (include, tpl,
// required, toYaml, fromYaml, toJson, fromJson, fromJsonArray, lookup), the same value types
// (values go through JSON, so numbers are float64 as in helm) and the same post-processing
// ("<no value>" removed, documents sorted in helm's install order, "# Source:" comments).
//
// Not supported (and not used by the chart): subcharts, .Files.Glob/AsConfig/AsSecrets, toToml,
// getHostByName, schema validation of values (values.schema.json), hooks. lookup always returns
// an empty map (no cluster), unless -lookup names a file of objects to return.
//
// Build (Debian, GOPATH mode):
//
//	GO111MODULE=off GOPATH=$PWD/gopath:/usr/share/gocode go build -o render ./test/chart/render
//
// Usage:
//
//	render -chart chart/ [-f values.yaml]... [-set a.b=c]... [-name vigil] [-namespace ns]
//	       [-api-versions monitoring.coreos.com/v1]... [-lookup objects.yaml] [-notes] [-o out.yaml]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yamlv2 "gopkg.in/yaml.v2"
	"gopkg.in/yaml.v3"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var valueFiles, sets, apiVersions listFlag
	chartDir := flag.String("chart", "chart", "chart directory")
	name := flag.String("name", "vigil", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	kubeVersion := flag.String("kube-version", "v1.27.1", "Kubernetes version for .Capabilities")
	lookupFile := flag.String("lookup", "", "YAML stream of objects that lookup returns (default: none)")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
	out := flag.String("o", "-", "output file")
	flag.Var(&valueFiles, "f", "values file (repeatable, later wins)")
	flag.Var(&sets, "set", "key.path=value (repeatable, value parsed as YAML)")
	flag.Var(&apiVersions, "api-versions", "extra API versions for .Capabilities.APIVersions (repeatable)")
	flag.Parse()

	text, err := run(*chartDir, *name, *namespace, *kubeVersion, *lookupFile, valueFiles, sets, apiVersions, *notes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
	if *out == "-" {
		os.Stdout.WriteString(text)
		return
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}

func run(chartDir, name, namespace, kubeVersion, lookupFile string, valueFiles, sets, apiVersions []string,
	notes bool) (string, error) {
	chartMeta, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	for _, f := range valueFiles {
		overlay, err := readYAMLMap(f)
		if err != nil {
			return "", err
		}
		values = coalesce(values, overlay)
	}
	for _, s := range sets {
		if err := applySet(values, s); err != nil {
			return "", err
		}
	}
	objects, err := readLookupObjects(lookupFile)
	if err != nil {
		return "", err
	}
	chartName, _ := chartMeta["name"].(string)
	r := &renderer{chartDir: chartDir, chartName: chartName, objects: objects}
	if err := r.parse(); err != nil {
		return "", err
	}
	versions := append([]string{"v1", "apps/v1", "rbac.authorization.k8s.io/v1", "policy/v1"}, apiVersions...)
	major, minor := splitKubeVersion(kubeVersion)
	top := map[string]interface{}{
		"Values": values,
		"Chart":  capitalizeChart(chartMeta),
		"Release": map[string]interface{}{
			"Name": name, "Namespace": namespace, "Service": "Helm", "Revision": 1,
			"IsInstall": true, "IsUpgrade": false,
		},
		"Capabilities": map[string]interface{}{
			"APIVersions": apiVersionSet(versions),
			"KubeVersion": map[string]interface{}{
				"Version": kubeVersion, "GitVersion": kubeVersion, "Major": major, "Minor": minor,
			},
			"HelmVersion": map[string]interface{}{"Version": "v3.12.0"},
		},
		"Files": files{dir: chartDir},
	}
	if notes {
		return r.renderOne(path.Join(chartName, "templates", "NOTES.txt"), top)
	}
	return r.renderAll(top)
}

// renderer holds the parsed template set of one chart.
type renderer struct {
	chartDir, chartName string
	objects             []map[string]interface{}
	tmpl                *template.Template
	names               []string // template names of files to render, sorted
}

func (r *renderer) funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env") // helm removes these two: a chart must not read the renderer's environment
	delete(f, "expandenv")
	f["toYaml"] = toYAML
	f["fromYaml"] = fromYAML
	f["fromYamlArray"] = fromYAMLArray
	f["toJson"] = toJSON
	f["fromJson"] = fromJSON
	f["fromJsonArray"] = fromJSONArray
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	f["lookup"] = r.lookup
	// include and tpl need the template set itself; replaced in parse().
	f["include"] = func(string, interface{}) (string, error) { return "", nil }
	f["tpl"] = func(string, interface{}) (string, error) { return "", nil }
	return f
}

func (r *renderer) parse() error {
	r.tmpl = template.New("chart").Funcs(r.funcs()).Option("missingkey=zero")
	includeDepth := 0
	r.tmpl.Funcs(template.FuncMap{
		"include": func(name string, data interface{}) (string, error) {
			includeDepth++
			defer func() { includeDepth-- }()
			if includeDepth > 1000 {
				return "", fmt.Errorf("include %q: nesting deeper than 1000", name)
			}
			var buf bytes.Buffer
			if err := r.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
				return "", err
			}
			return buf.String(), nil
		},
		"tpl": func(text string, data interface{}) (string, error) {
			t, err := r.tmpl.Clone()
			if err != nil {
				return "", err
			}
			t, err = t.New("tpl").Option("missingkey=zero").Parse(text)
			if err != nil {
				return "", fmt.Errorf("tpl: %w", err)
			}
			var buf bytes.Buffer
			if err := t.Execute(&buf, data); err != nil {
				return "", fmt.Errorf("tpl: %w", err)
			}
			return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
		},
	})
	root := filepath.Join(r.chartDir, "templates")
	return filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		name := path.Join(r.chartName, "templates", filepath.ToSlash(rel))
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := r.tmpl.New(name).Parse(string(body)); err != nil {
			return err
		}
		base := filepath.Base(p)
		if !strings.HasPrefix(base, "_") && base != "NOTES.txt" {
			r.names = append(r.names, name)
		}
		return nil
	})
}

// withTemplate returns the top-level data with .Template set for one file.
func withTemplate(top map[string]interface{}, name, chartName string) map[string]interface{} {
	data := make(map[string]interface{}, len(top)+1)
	for k, v := range top {
		data[k] = v
	}
	data["Template"] = map[string]interface{}{"Name": name, "BasePath": path.Join(chartName, "templates")}
	return data
}

func (r *renderer) renderOne(name string, top map[string]interface{}) (string, error) {
	var buf bytes.Buffer
	if err := r.tmpl.ExecuteTemplate(&buf, name, withTemplate(top, name, r.chartName)); err != nil {
		return "", err
	}
	return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
}

type manifest struct {
	source, kind, name, body string
}

func (r *renderer) renderAll(top map[string]interface{}) (string, error) {
	sort.Strings(r.names)
	var manifests []manifest
	for _, name := range r.names {
		text, err := r.renderOne(name, top)
		if err != nil {
			return "", err
		}
		for _, doc := range splitDocuments(text) {
			var head struct {
				Kind     string `yaml:"kind"`
				Metadata struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				return "", fmt.Errorf("YAML parse error on %s: %w\n%s", name, err, numbered(doc))
			}
			if head.Kind == "" {
				return "", fmt.Errorf("%s: object without kind:\n%s", name, numbered(doc))
			}
			manifests = append(manifests, manifest{name, head.Kind, head.Metadata.Name, doc})
		}
	}
	sort.SliceStable(manifests, func(i, j int) bool {
		a, b := kindRank(manifests[i].kind), kindRank(manifests[j].kind)
		if a != b {
			return a < b
		}
		if a == len(installOrder) && manifests[i].kind != manifests[j].kind {
			return manifests[i].kind < manifests[j].kind
		}
		return false
	})
	var out strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", m.source, m.body)
	}
	return out.String(), nil
}

// splitDocuments splits a rendered file at "---" lines and drops documents that are empty or
// only comments, as helm does.
func splitDocuments(text string) []string {
	var docs []string
	for _, part := range strings.Split("\n"+text, "\n---") {
		// A separator line may carry trailing text ("--- # comment"); keep only the rest.
		if i := strings.IndexByte(part, '\n'); i >= 0 {
			part = part[i+1:]
		} else {
			part = ""
		}
		meaningful := false
		for _, line := range strings.Split(part, "\n") {
			t := strings.TrimSpace(line)
			if t != "" && !strings.HasPrefix(t, "#") {
				meaningful = true
				break
			}
		}
		if meaningful {
			docs = append(docs, strings.TrimSpace(part)) // helm trims each document too
		}
	}
	return docs
}

// installOrder is helm's InstallOrder (pkg/releaseutil/kind_sorter.go).
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
	"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
	"RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
}

func kindRank(kind string) int {
	for i, k := range installOrder {
		if k == kind {
			return i
		}
	}
	return len(installOrder)
}

func numbered(doc string) string {
	var b strings.Builder
	for i, line := range strings.Split(doc, "\n") {
		fmt.Fprintf(&b, "%4d| %s\n", i+1, line)
	}
	return b.String()
}

// lookup mimics helm's lookup without a cluster: an empty map, unless -lookup provided objects.
func (r *renderer) lookup(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
	var items []interface{}
	for _, o := range r.objects {
		md, _ := o["metadata"].(map[string]interface{})
		if o["apiVersion"] != apiVersion || o["kind"] != kind {
			continue
		}
		if namespace != "" && md["namespace"] != namespace {
			continue
		}
		if name != "" {
			if md["name"] == name {
				return o, nil
			}
			continue
		}
		items = append(items, o)
	}
	if name == "" && len(items) > 0 {
		return map[string]interface{}{"apiVersion": "v1", "kind": kind + "List", "items": items}, nil
	}
	return map[string]interface{}{}, nil
}

// files is .Files: the chart's non-template files.
type files struct{ dir string }

// Get returns a file's content, or "" when it does not exist (as helm does).
func (f files) Get(name string) string { return string(f.GetBytes(name)) }

// GetBytes returns a file's content, or nil.
func (f files) GetBytes(name string) []byte {
	b, err := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(name)))
	if err != nil {
		return nil
	}
	return b
}

// Lines returns a file's lines.
func (f files) Lines(name string) []string {
	s := f.Get(name)
	if s == "" {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// apiVersionSet is .Capabilities.APIVersions with its Has method.
type apiVersionSet []string

// Has reports whether a "group/version" or "group/version/Kind" is available.
func (s apiVersionSet) Has(v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func splitKubeVersion(v string) (string, string) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return parts[0], "0"
	}
	return parts[0], parts[1]
}

// capitalizeChart maps Chart.yaml keys to helm's .Chart fields (name -> Name, appVersion ->
// AppVersion, apiVersion -> APIVersion).
func capitalizeChart(m map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range m {
		switch k {
		case "apiVersion":
			out["APIVersion"] = v
		default:
			out[strings.ToUpper(k[:1])+k[1:]] = v
		}
	}
	for _, k := range []string{"Name", "Version", "AppVersion", "Description", "Type", "KubeVersion"} {
		if _, ok := out[k]; !ok {
			out[k] = ""
		}
	}
	return out
}

// --- values ---

// readYAMLMap reads a YAML mapping and converts it to JSON types (map[string]interface{},
// []interface{}, float64, string, bool, nil), as helm does through sigs.k8s.io/yaml.
func readYAMLMap(file string) (map[string]interface{}, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var v interface{}
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if v == nil {
		return map[string]interface{}{}, nil
	}
	j, err := jsonTypes(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	m, ok := j.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: not a YAML mapping", file)
	}
	return m, nil
}

func readLookupObjects(file string) ([]map[string]interface{}, error) {
	if file == "" {
		return nil, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var objects []map[string]interface{}
	for {
		var v interface{}
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		j, err := jsonTypes(v)
		if err != nil {
			return nil, err
		}
		if m, ok := j.(map[string]interface{}); ok {
			objects = append(objects, m)
		}
	}
	return objects, nil
}

// jsonTypes round-trips a value through JSON.
func jsonTypes(v interface{}) (interface{}, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out interface{}
	err = json.Unmarshal(b, &out)
	return out, err
}

// coalesce merges overlay into base like helm: maps merge recursively, anything else replaces,
// and a null in the overlay deletes the key.
func coalesce(base, overlay map[string]interface{}) map[string]interface{} {
	for k, v := range overlay {
		if v == nil {
			delete(base, k)
			continue
		}
		bm, bok := base[k].(map[string]interface{})
		om, ook := v.(map[string]interface{})
		if bok && ook {
			base[k] = coalesce(bm, om)
		} else {
			base[k] = v
		}
	}
	return base
}

// applySet applies one "a.b.c=value" (value parsed as YAML, so true/1/null are typed).
func applySet(values map[string]interface{}, s string) error {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return fmt.Errorf("-set %q: want key=value", s)
	}
	var v interface{}
	if err := yaml.Unmarshal([]byte(s[eq+1:]), &v); err != nil {
		return fmt.Errorf("-set %q: %w", s, err)
	}
	j, err := jsonTypes(v)
	if err != nil {
		return err
	}
	keys := strings.Split(s[:eq], ".")
	m := values
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[k] = next
		}
		m = next
	}
	last := keys[len(keys)-1]
	if j == nil {
		delete(m, last)
	} else {
		m[last] = j
	}
	return nil
}

// --- helm's serialization functions (pkg/engine/funcs.go) ---

// toYAML: JSON first, then YAML (sigs.k8s.io/yaml.Marshal, which uses yaml.v2): sorted keys,
// sequences not indented under their key; the trailing newline trimmed. "" on error, as helm.
func toYAML(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var obj interface{}
	if err := yamlv2.Unmarshal(j, &obj); err != nil {
		return ""
	}
	b, err := yamlv2.Marshal(obj)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	var v interface{}
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		m["Error"] = err.Error()
		return m
	}
	j, err := jsonTypes(v)
	if err != nil {
		m["Error"] = err.Error()
		return m
	}
	if jm, ok := j.(map[string]interface{}); ok {
		return jm
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	var v interface{}
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return []interface{}{err.Error()}
	}
	j, err := jsonTypes(v)
	if err != nil {
		return []interface{}{err.Error()}
	}
	a, _ := j.([]interface{})
	return a
}

func toJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	var a []interface{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return []interface{}{err.Error()}
	}
	return a
}
