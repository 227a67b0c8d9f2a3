package main

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/calletl/calletl/extract/registry"
)

// decodeConfig decodes a config file strictly into c. Every mistake is a
// *FieldError naming the field (dotted path, e.g. sources.mtt.page_size)
// and the line: an empty file, a tab in the indentation, a YAML syntax
// error, more than one document, an unknown or duplicate key, a value of the
// wrong type, and a fraction where a whole number is wanted (the YAML
// library would truncate page_size: 2.5 to 2 without a word). lines
// receives the line of every key, for validation errors found later.
func decodeConfig(file string, b []byte, c *Config, lines map[string]int) error {
	fail := func(line int, field, format string, args ...any) error {
		return &FieldError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return fail(0, "", "the file is empty: start from configs/etl.example.yaml (`etl demo` writes a working one)")
	}
	if err := checkTabs(file, b); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(0, "", "the file holds only comments: start from configs/etl.example.yaml")
		}
		return syntaxError(file, b, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return fail(extra.Line, "", "a second YAML document (after ---): the config is one document")
	} else if !errors.Is(err, io.EOF) {
		return syntaxError(file, b, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return fail(root.Line, "", "the file holds no settings: start from configs/etl.example.yaml")
	}
	if root.Kind != yaml.MappingNode {
		return fail(root.Line, "", "want a mapping of settings (lake:, state:, sources: …) at the top level, not %s", kindName(root))
	}
	w := &nodeWalker{lines: lines, vendors: c.Sources.vendors}
	w.walk(root, reflect.TypeFor[Config](), "", 0)
	if len(w.errs) > 0 {
		errs := make([]error, len(w.errs))
		for i, e := range w.errs {
			e.File = file
			errs[i] = e
		}
		return errors.Join(errs...)
	}
	// The walk has checked every value; the library's own strict decode
	// stays the authority on what it accepts.
	strict := yaml.NewDecoder(bytes.NewReader(b))
	strict.KnownFields(true)
	if err := strict.Decode(c); err != nil {
		return libraryError(file, err)
	}
	return nil
}

// checkTabs rejects a tab in the indentation: YAML indents with spaces
// only, and the library's message for it ("found character that cannot
// start any token") names neither the line nor the field.
func checkTabs(file string, b []byte) error {
	for i, line := range strings.Split(string(b), "\n") {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if strings.Contains(indent, "\t") && strings.TrimSpace(line) != "" {
			return &FieldError{File: file, Line: i + 1, Field: keyOnLine(line),
				Msg: "a tab in the indentation: YAML indents with spaces only"}
		}
	}
	return nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// syntaxError turns the YAML library's parse error into a FieldError with
// the line and the key written on it.
func syntaxError(file string, b []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	fe := &FieldError{File: file, Msg: "YAML syntax error: " + msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		fe.Line, _ = strconv.Atoi(m[1])
		fe.Msg = "YAML syntax error: " + strings.TrimSpace(strings.TrimPrefix(strings.Replace(msg, m[0], "", 1), ":"))
		if lines := strings.Split(string(b), "\n"); fe.Line >= 1 && fe.Line <= len(lines) {
			fe.Field = keyOnLine(lines[fe.Line-1])
		}
	}
	return fe
}

// libraryError wraps an error of the strict decode (one the walk did not
// foresee) as a FieldError, keeping the library's lines.
func libraryError(file string, err error) error {
	return &FieldError{File: file, Msg: strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n ", ";")}
}

// keyOnLine returns the key written on a line ("page_size" of
// "    page_size: 2.5", "customers" of "  - customers: x"), or "".
func keyOnLine(line string) string {
	s := strings.TrimLeft(line, " \t-")
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return ""
	}
	k := strings.Trim(strings.TrimSpace(s[:i]), `"'`)
	if strings.ContainsAny(k, " {[#,") {
		return ""
	}
	return k
}

// nodeWalker checks a YAML node tree against the Go type it will be
// decoded into, collecting one FieldError per fault.
type nodeWalker struct {
	errs    []*FieldError
	lines   map[string]int
	vendors *registry.Registry // the sections sources: can have
}

func (w *nodeWalker) bad(n *yaml.Node, field, format string, args ...any) {
	w.errs = append(w.errs, &FieldError{Line: n.Line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	unmarshalerType     = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	sourcesType         = reflect.TypeFor[SourcesConfig]()
)

func (w *nodeWalker) walk(n *yaml.Node, t reflect.Type, path string, depth int) {
	if depth > 64 {
		w.bad(n, path, "nested too deep (an alias that refers to itself?)")
		return
	}
	if n.Kind == yaml.AliasNode {
		w.walk(n.Alias, t, path, depth+1)
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // leaves the field unset, whatever its type
	}
	if t == sourcesType {
		// One section per registered vendor, each of its config type.
		fields := map[string]reflect.Type{}
		for _, v := range w.vendors.Vendors() {
			fields[v.Name()] = reflect.TypeOf(v.NewConfig())
		}
		w.mapping(n, t, fields, path, depth)
		return
	}
	if pt := reflect.PointerTo(t); pt.Implements(unmarshalerType) || pt.Implements(textUnmarshalerType) || t.Kind() == reflect.Interface {
		return // decodes itself: the strict decode below reports its errors
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
			w.bad(n, path, "%s: want a duration such as 500ms, 30s or 2m", shown(n))
		} else if _, err := time.ParseDuration(n.Value); err != nil {
			w.bad(n, path, "%q: want a duration such as 500ms, 30s or 2m", n.Value)
		}
	case t.Kind() == reflect.Struct:
		w.mapping(n, t, yamlFields(t), path, depth)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.bad(n, path, "%s: want a list ([a, b] or one \"- item\" per line)", shown(n))
			return
		}
		for i, e := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if w.lines != nil {
				w.lines[p] = e.Line
			}
			w.walk(e, t.Elem(), p, depth+1)
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.bad(n, path, "%s: want a mapping (key: value)", shown(n))
			return
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if first, dup := seen[k.Value]; dup {
				w.bad(k, p, "set twice (first at line %d): keep one", first)
				continue
			}
			seen[k.Value] = k.Line
			w.walk(v, t.Elem(), p, depth+1)
		}
	default:
		w.scalar(n, t, path)
	}
}

// mapping checks a struct's keys (fields: the type of each key t has):
// each known, none twice.
func (w *nodeWalker) mapping(n *yaml.Node, t reflect.Type, fields map[string]reflect.Type, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		w.bad(n, path, "%s: want a mapping (key: value lines)", shown(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.Tag == "!!merge" { // a YAML merge key: its mappings' keys join this one
			for _, m := range append([]*yaml.Node{v}, v.Content...) {
				if m.Kind == yaml.MappingNode || m.Kind == yaml.AliasNode {
					w.walk(m, t, path, depth+1)
				}
			}
			continue
		}
		p := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			w.bad(k, p, "set twice (first at line %d): keep one", first)
			continue
		}
		seen[k.Value] = k.Line
		if w.lines != nil {
			w.lines[p] = k.Line
		}
		ft, ok := fields[k.Value]
		if !ok {
			msg := "unknown field"
			if near := nearest(k.Value, fields); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			w.bad(k, p, "%s; see configs/etl.example.yaml for every field", msg)
			continue
		}
		w.walk(v, ft, p, depth+1)
	}
}

// scalar checks a value for a string, bool or number field.
func (w *nodeWalker) scalar(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		w.bad(n, path, "%s: want a single value", shown(n))
		return
	}
	var want string
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		want = "want a whole number"
		if n.Tag != "!!int" {
			w.bad(n, path, "%s: %s", shown(n), want)
			return
		}
	case reflect.Float32, reflect.Float64:
		want = "want a number"
	case reflect.Bool:
		want = "want true or false"
	case reflect.String:
		return // any scalar is text
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		if want == "" {
			want = "want a " + t.String()
		}
		w.bad(n, path, "%s: %s", shown(n), want)
	}
}

// yamlFields maps a struct's YAML keys to their field types, the way the
// YAML library names them (the yaml tag, else the lowercased field name).
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// nearest returns the known field closest to a misspelt one (at most two
// edits away), or "".
func nearest(s string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for k := range fields {
		if d := editDistance(s, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// shown renders a node for a message: a scalar as written, else its kind.
func shown(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return kindName(n)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "an empty document"
}
