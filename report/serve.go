package report

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// ServerOptions configures [NewServer].
type ServerOptions struct {
	// Reports is the report catalogue (queries/ or --queries DIR).
	Reports fs.FS
	// Timeout cancels one report's query after this long; 0 for none.
	Timeout time.Duration
	// ParquetFile is the engine's Options.Output, where Parquet downloads
	// are written one at a time before they are sent; "" disables them.
	ParquetFile string
	// Log receives one line per failed request; nil for none.
	Log *slog.Logger
}

// Server is the read-only report page of etl serve: the catalogue, a
// report's parameter form, its chart and table, and downloads of its
// result as CSV, XLSX and Parquet. It runs reports on the [Engine] it is
// given, so queries go through the same checks and the same DuckDB sandbox
// as etl report, and it answers GET and HEAD only. The pages carry no
// script (a Content-Security-Policy forbids any) and load nothing from
// elsewhere.
type Server struct {
	eng *Engine
	opt ServerOptions
	mux *http.ServeMux
	pq  sync.Mutex // one Parquet download at a time: they share ParquetFile
}

// NewServer returns the report page over eng.
func NewServer(eng *Engine, opt ServerOptions) *Server {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{eng: eng, opt: opt, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /download/{file}", s.download)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "read-only: GET and HEAD only", http.StatusMethodNotAllowed)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// servePage is the data of serveTemplate.
type servePage struct {
	Reports   []Report
	Report    *Report
	Inputs    []serveInput
	Error     string
	Result    *htmlPage
	Downloads []serveLink
}

type serveInput struct {
	Param Param
	Kind  string // the input element's type: date, number, text, or "bool" for a select
	Value string
	Step  string // for number inputs: "1" or "any"
}

type serveLink struct {
	Label, Href string
}

// index serves the catalogue and, with ?report=NAME, the report run with
// the parameters of the query string.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	cat, err := Catalogue(s.opt.Reports)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	p := servePage{Reports: cat}
	name := r.URL.Query().Get("report")
	status := http.StatusOK
	if name != "" {
		rep, err := Find(s.opt.Reports, name)
		if err != nil {
			s.fail(w, r, http.StatusNotFound, err)
			return
		}
		p.Report = &rep
		args := formArgs(rep, r.URL.Query())
		for _, prm := range rep.Params {
			in := serveInput{Param: prm, Value: args[prm.Name], Kind: "text"}
			switch prm.Type {
			case "DATE":
				in.Kind = "date"
			case "INTEGER", "BIGINT":
				in.Kind, in.Step = "number", "1"
			case "DOUBLE":
				in.Kind, in.Step = "number", "any"
			case "BOOLEAN":
				in.Kind = "bool"
			}
			p.Inputs = append(p.Inputs, in)
		}
		res, err := s.query(r.Context(), rep, args)
		if err == nil {
			var page htmlPage
			if page, err = res.page(rep.Title, rep.Chart); err == nil {
				p.Result = &page
			}
		}
		if err != nil {
			status = http.StatusBadRequest
			if !errors.As(err, new(*paramError)) {
				status = http.StatusInternalServerError
			}
			p.Error = err.Error()
			s.opt.Log.Warn("serve: report failed", "report", rep.Name, "err", err)
		} else {
			q := argsQuery(args).Encode()
			for _, f := range []struct{ label, ext string }{{"CSV", "csv"}, {"Excel (XLSX)", "xlsx"}, {"Parquet", "parquet"}} {
				if f.ext == "parquet" && s.opt.ParquetFile == "" {
					continue
				}
				href := "/download/" + rep.Name + "." + f.ext
				if q != "" {
					href += "?" + q
				}
				p.Downloads = append(p.Downloads, serveLink{Label: f.label, Href: href})
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := serveTemplate.Execute(w, p); err != nil {
		s.opt.Log.Warn("serve: write page", "err", err)
	}
}

// paramError is a bad parameter value (400), as opposed to a failing query.
type paramError struct{ err error }

func (e *paramError) Error() string { return e.err.Error() }
func (e *paramError) Unwrap() error { return e.err }

// query runs rep within the configured timeout; an argument the header
// refuses is a *paramError.
func (s *Server) query(ctx context.Context, rep Report, args map[string]string) (*Result, error) {
	if _, err := rep.values(args); err != nil {
		return nil, &paramError{err}
	}
	if s.opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opt.Timeout)
		defer cancel()
	}
	return s.eng.Query(ctx, rep, args)
}

// formArgs returns the report's parameters given in the query string:
// declared names only, empty values left out (the default applies).
func formArgs(rep Report, q url.Values) map[string]string {
	args := map[string]string{}
	for _, p := range rep.Params {
		if v := strings.TrimSpace(q.Get(p.Name)); v != "" {
			args[p.Name] = v
		}
	}
	return args
}

// argsQuery encodes args as a query string (Encode sorts it by name).
func argsQuery(args map[string]string) url.Values {
	q := url.Values{}
	for k, v := range args {
		q.Set(k, v)
	}
	return q
}

// download serves /download/NAME.EXT?params as an attachment: EXT is csv,
// xlsx or parquet.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	name, ext, ok := strings.Cut(file, ".")
	if !ok || (ext != "csv" && ext != "xlsx" && ext != "parquet") {
		s.fail(w, r, http.StatusNotFound, fmt.Errorf("no download %q: want NAME.csv, NAME.xlsx or NAME.parquet", file))
		return
	}
	rep, err := Find(s.opt.Reports, name)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	args := formArgs(rep, r.URL.Query())
	attachment := attachmentName(rep.Name, args, ext)
	if ext == "parquet" {
		s.downloadParquet(w, r, rep, args, attachment)
		return
	}
	res, err := s.query(r.Context(), rep, args)
	if err != nil {
		s.fail(w, r, statusOf(err), err)
		return
	}
	h := w.Header()
	h.Set("Content-Disposition", `attachment; filename="`+attachment+`"`)
	if ext == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		err = res.Write(w, "csv")
	} else {
		h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		err = res.WriteXLSX(w, rep.Name)
	}
	if err != nil {
		s.opt.Log.Warn("serve: write download", "file", attachment, "err", err)
	}
}

func (s *Server) downloadParquet(w http.ResponseWriter, r *http.Request, rep Report, args map[string]string, attachment string) {
	if s.opt.ParquetFile == "" {
		s.fail(w, r, http.StatusNotFound, errors.New("parquet downloads are not enabled"))
		return
	}
	if _, err := rep.values(args); err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	s.pq.Lock()
	defer s.pq.Unlock()
	ctx := r.Context()
	if s.opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opt.Timeout)
		defer cancel()
	}
	if err := s.eng.CopyReport(ctx, rep, args); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	f, err := os.Open(s.opt.ParquetFile)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	defer func() {
		f.Close()
		_ = os.Remove(s.opt.ParquetFile) // a result is not kept on disk longer than its download
	}()
	h := w.Header()
	h.Set("Content-Disposition", `attachment; filename="`+attachment+`"`)
	h.Set("Content-Type", "application/vnd.apache.parquet")
	if fi, err := f.Stat(); err == nil {
		h.Set("Content-Length", fmt.Sprint(fi.Size()))
	}
	if _, err := io.Copy(w, f); err != nil {
		s.opt.Log.Warn("serve: write download", "file", attachment, "err", err)
	}
}

// attachmentName is the file name of a download: the report and its
// parameter values, e.g. daily_summary_from-2026-11-01_to-2026-11-30.csv.
func attachmentName(report string, args map[string]string, ext string) string {
	name := report
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		name += "_" + k + "-" + args[k]
	}
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, name)
	return filepath.Base(name + "." + ext)
}

// statusOf maps a query error to an HTTP status.
func statusOf(err error) int {
	if errors.As(err, new(*paramError)) {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// fail answers with a plain-text error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	s.opt.Log.Warn("serve: request failed", "path", r.URL.Path, "status", status, "err", err)
	http.Error(w, err.Error(), status)
}

var serveTemplate = template.Must(template.Must(pageTemplate.Clone()).New("serve").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{with .Report}}{{.Title}} — {{end}}calletl reports</title>
<style>
{{template "style"}}
nav { float: left; width: 15em; margin-right: 2em; }
nav ul { list-style: none; padding: 0; }
nav li { margin: 0.3em 0; }
nav a.current { font-weight: bold; }
main { overflow: hidden; }
form { margin: 1em 0; padding: 0.8em; background: #f6f6f6; border: 1px solid #ddd; }
form label { display: inline-block; margin-right: 1.2em; }
form small { display: block; color: #666; }
.error { color: #a00; white-space: pre-wrap; border: 1px solid #a00; padding: 0.5em; }
.downloads a { margin-right: 1em; }
.desc { color: #444; white-space: pre-wrap; }
</style>
</head>
<body>
<nav>
<h1>Reports</h1>
<ul>
{{range .Reports}}<li><a href="/?report={{.Name}}"{{if and $.Report (eq $.Report.Name .Name)}} class="current"{{end}} title="{{.Title}}">{{.Name}}</a></li>
{{end}}</ul>
</nav>
<main>
{{with .Report}}<h1>{{.Title}}</h1>
<p class="desc">{{.Description}}</p>
<form method="get" action="/">
<input type="hidden" name="report" value="{{.Name}}">
{{range $.Inputs}}<label>{{.Param.Name}}
{{if eq .Kind "bool"}}<select name="{{.Param.Name}}"><option value="">default ({{.Param.Default}})</option><option value="true"{{if eq .Value "true"}} selected{{end}}>true</option><option value="false"{{if eq .Value "false"}} selected{{end}}>false</option></select>
{{else}}<input type="{{.Kind}}" name="{{.Param.Name}}" value="{{.Value}}"{{with .Step}} step="{{.}}"{{end}}{{if .Param.Required}} required{{else}} placeholder="{{.Param.Default}}"{{end}}>
{{end}}<small>{{.Param.Doc}}</small></label>
{{end}}<button type="submit">Run</button>
</form>
{{end}}{{with .Error}}<p class="error" role="alert">{{.}}</p>
{{end}}{{with .Downloads}}<p class="downloads">Download: {{range .}}<a href="{{.Href}}" download>{{.Label}}</a>{{end}}</p>
{{end}}{{with .Result}}{{with .Chart}}{{template "chart" .}}{{end}}{{template "table" .}}{{end}}{{if not .Report}}<p>Pick a report on the left.</p>
{{end}}</main>
</body>
</html>
`))
