package sandbox

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"strings"
)

// mttDocFiles holds the vendor document's example payloads (see
// testdata/mtt/README.md). Read only.
//
//go:embed testdata/mtt/*.json
var mttDocFiles embed.FS

// docExample is one documented request and its documented response.
type docExample struct {
	name     string // file name prefix, e.g. "getCustomerBalance"
	method   string
	params   any    // decoded with json.Number
	id       []byte // compact JSON
	response []byte // verbatim
	answer   json.RawMessage
	isError  bool // answer is the "error" member rather than "result"
}

// mustLoadDocExamples loads every *.request.json with its *.response.json.
// The files are embedded, so an error is a bug in the package (and fails its
// tests).
func mustLoadDocExamples() []docExample {
	exs, err := loadDocExamples(mttDocFiles)
	if err != nil {
		panic(err)
	}
	return exs
}

func loadDocExamples(fsys fs.FS) ([]docExample, error) {
	names, err := fs.Glob(fsys, "testdata/mtt/*.request.json")
	if err != nil {
		return nil, err
	}
	var exs []docExample
	for _, reqName := range names {
		respName := strings.TrimSuffix(reqName, ".request.json") + ".response.json"
		reqBody, err := fs.ReadFile(fsys, reqName)
		if err != nil {
			return nil, err
		}
		respBody, err := fs.ReadFile(fsys, respName)
		if err != nil {
			return nil, err
		}
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal(reqBody, &req); err != nil {
			return nil, fmt.Errorf("sandbox: %s: %w", reqName, err)
		}
		params, err := decodeAny(req.Params)
		if err != nil {
			return nil, fmt.Errorf("sandbox: %s params: %w", reqName, err)
		}
		var resp struct {
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(respBody, &resp); err != nil {
			return nil, fmt.Errorf("sandbox: %s: %w", respName, err)
		}
		ex := docExample{
			name:     strings.TrimSuffix(strings.TrimPrefix(reqName, "testdata/mtt/"), ".request.json"),
			method:   req.Method,
			params:   params,
			id:       compactID(req.ID),
			response: respBody,
			answer:   resp.Result,
		}
		if resp.Result == nil {
			ex.answer, ex.isError = resp.Error, true
		}
		exs = append(exs, ex)
	}
	return exs, nil
}

// docAnswer returns the documented response when (method, params) equal a
// documented request: verbatim when id is the documented id too, else the
// documented result with id.
func (m *MTT) docAnswer(method string, id []byte, rawParams json.RawMessage) ([]byte, bool) {
	if len(m.examples) == 0 {
		return nil, false
	}
	params, err := decodeAny(rawParams)
	if err != nil {
		return nil, false
	}
	for _, ex := range m.examples {
		if ex.method != method || !reflect.DeepEqual(ex.params, params) {
			continue
		}
		if bytes.Equal(ex.id, id) {
			return ex.response, true
		}
		member := "result"
		if ex.isError {
			member = "error"
		}
		b := append([]byte(`{"jsonrpc":"2.0","id":`), id...)
		b = append(b, `,"`+member+`":`...)
		b = append(b, ex.answer...)
		return append(b, '}'), true
	}
	return nil, false
}

// decodeAny decodes one JSON value keeping numbers as json.Number, so that
// 20 and 20.0 or "20" stay different. Empty input decodes to nil.
func decodeAny(raw []byte) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("sandbox: trailing data after JSON value")
	}
	return v, nil
}
