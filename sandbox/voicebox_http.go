package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// HTTP side of the VoiceBox emulator.
//
// Range paging (a decision: the document only says "206 Partial Content"
// and shows `Range: numbers=0-9`): the request header `Range:
// numbers=<first>-<last>` (inclusive, zero-based; `numbers=<first>-` means
// to the end) is answered
//   - 206 with `Content-Range: numbers <first>-<last>/<total>` and a JSON
//     array of those rows, at most MaxPageSize of them;
//   - 200 with the whole array when the range covers the whole list (or
//     the list is empty and first is 0);
//   - 416 with `Content-Range: numbers */<total>` when first >= total.
//
// With UnknownTotal every range inside the list is a 206 whose
// Content-Range total is `*` (capped at MaxPageSize like the others), and a
// range past the end a 416 without a Content-Range.
//
// Without a Range header, or with one that does not parse, the whole list
// is answered 200.

// routes returns the emulator's router.
func (v *VoiceBox) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", v.token)
	list := func(route string, rows func(*vbCustomer) [][]byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c := v.api(w, r, route)
			if c != nil {
				v.list(w, r, rows(c))
			}
		}
	}
	mux.HandleFunc("GET /customers/{id}/callhistory", list("callhistory", func(c *vbCustomer) [][]byte { return c.rows }))
	mux.HandleFunc("GET /customers/{id}/callhistory/campaigns", list("callhistory/campaigns", func(c *vbCustomer) [][]byte { return c.histCamps }))
	mux.HandleFunc("GET /customers/{id}/campaigns", list("campaigns", func(c *vbCustomer) [][]byte { return c.campRows }))
	mux.HandleFunc("GET /customers/{id}/balance", func(w http.ResponseWriter, r *http.Request) {
		c := v.api(w, r, "balance")
		if c == nil {
			return
		}
		o := &vbObject{}
		o.add("balance", json.Number(vbMoney(c.balance, '.')))
		o.add("currency", "RUB")
		vbWrite(w, http.StatusOK, o.bytes())
	})
	v.numberRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		v.count("other")
		vbError(w, http.StatusNotFound, "not_found", "no such resource: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

func (v *VoiceBox) count(route string) {
	v.mu.Lock()
	v.requests[route]++
	v.mu.Unlock()
}

// api counts the request, checks its bearer token and finds the customer;
// it answers the error itself and returns nil on failure.
func (v *VoiceBox) api(w http.ResponseWriter, r *http.Request, route string) *vbCustomer {
	v.count(route)
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	v.mu.Lock()
	ok := strings.EqualFold(scheme, "Bearer") && v.validLocked(strings.TrimSpace(tok), false)
	if !ok {
		v.unauthorized++
	}
	v.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="voicebox", error="invalid_token"`)
		vbError(w, http.StatusUnauthorized, "invalid_token", "the access token is missing, expired or revoked")
		return nil
	}
	c := v.customers[r.PathValue("id")]
	if c == nil {
		vbError(w, http.StatusNotFound, "not_found", "customer "+r.PathValue("id")+" not found")
	}
	return c
}

// token answers POST /oauth/token (RFC 6749 sections 4.3, 6 and 5).
func (v *VoiceBox) token(w http.ResponseWriter, r *http.Request) {
	v.count("token")
	if err := r.ParseForm(); err != nil {
		vbError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 2.3.1: both are form-urlencoded before Basic encoding.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != v.cfg.ClientID || secret != v.cfg.ClientSecret {
		w.Header().Set("WWW-Authenticate", `Basic realm="voicebox"`)
		vbError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	v.mu.Lock()
	var access, refresh string
	switch r.PostForm.Get("grant_type") {
	case "password":
		if v.userRevoked || r.PostForm.Get("username") != v.cfg.Username || r.PostForm.Get("password") != v.cfg.Password {
			v.mu.Unlock()
			vbError(w, http.StatusBadRequest, "invalid_grant", "bad user credentials")
			return
		}
		access, refresh = v.issueLocked()
		v.passGrants++
	case "refresh_token":
		old := r.PostForm.Get("refresh_token")
		if !v.validLocked(old, true) {
			v.mu.Unlock()
			vbError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is invalid, expired or revoked")
			return
		}
		v.tokens[old].revoked = true // rotation: a refresh token is used once
		access, refresh = v.issueLocked()
		v.refreshGrant++
	default:
		v.mu.Unlock()
		vbError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be password or refresh_token")
		return
	}
	v.mu.Unlock()
	o := &vbObject{}
	o.add("access_token", access)
	o.add("token_type", "Bearer")
	o.add("expires_in", v.expiresIn())
	o.add("refresh_token", refresh)
	o.add("scope", "voicebox")
	w.Header().Set("Cache-Control", "no-store")
	vbWrite(w, http.StatusOK, o.bytes())
}

// list answers a list endpoint with Range paging.
func (v *VoiceBox) list(w http.ResponseWriter, r *http.Request, rows [][]byte) {
	v.mu.Lock()
	ignore, repeat, unknown := v.ignoreRange, v.repeatPages, v.unknownTotal
	v.mu.Unlock()
	w.Header().Set("Accept-Ranges", "numbers")
	total := len(rows)
	first, last, ok := vbParseRange(r.Header.Get("Range"))
	if ignore || !ok {
		vbWrite(w, http.StatusOK, vbArray(rows))
		return
	}
	if repeat {
		n := min(total, max(last-first+1, 1), v.cfg.MaxPageSize)
		if last < 0 {
			n = min(total, v.cfg.MaxPageSize)
		}
		w.Header().Set("Content-Range", "numbers "+strconv.Itoa(first)+"-"+strconv.Itoa(first+n-1)+"/*")
		vbWrite(w, http.StatusPartialContent, vbArray(rows[:n]))
		return
	}
	if unknown {
		// The server does not know the list's length: every range inside
		// it is a 206 with total "*", one past it a 416 naming no total.
		if first >= total {
			vbError(w, http.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable",
				"first row "+strconv.Itoa(first)+" is past the end of the list")
			return
		}
		if last < 0 || last > total-1 {
			last = total - 1
		}
		last = min(last, first+v.cfg.MaxPageSize-1)
		w.Header().Set("Content-Range", "numbers "+strconv.Itoa(first)+"-"+strconv.Itoa(last)+"/*")
		vbWrite(w, http.StatusPartialContent, vbArray(rows[first:last+1]))
		return
	}
	if first >= total {
		if first == 0 {
			vbWrite(w, http.StatusOK, []byte("[]"))
			return
		}
		w.Header().Set("Content-Range", "numbers */"+strconv.Itoa(total))
		vbError(w, http.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable",
			"first row "+strconv.Itoa(first)+" is past the end of "+strconv.Itoa(total)+" rows")
		return
	}
	if last < 0 || last > total-1 {
		last = total - 1
	}
	last = min(last, first+v.cfg.MaxPageSize-1)
	if first == 0 && last == total-1 {
		vbWrite(w, http.StatusOK, vbArray(rows))
		return
	}
	w.Header().Set("Content-Range", "numbers "+strconv.Itoa(first)+"-"+strconv.Itoa(last)+"/"+strconv.Itoa(total))
	vbWrite(w, http.StatusPartialContent, vbArray(rows[first:last+1]))
}

// vbParseRange parses "numbers=<first>-<last>" or "numbers=<first>-"
// (last −1). ok is false for anything else, which the API ignores.
func vbParseRange(h string) (first, last int, ok bool) {
	unit, spec, found := strings.Cut(strings.TrimSpace(h), "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "numbers") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false
	}
	first, err := strconv.Atoi(strings.TrimSpace(a))
	if err != nil || first < 0 || first > 1<<40 {
		return 0, 0, false
	}
	if strings.TrimSpace(b) == "" {
		return first, -1, true
	}
	last, err = strconv.Atoi(strings.TrimSpace(b))
	if err != nil || last < first || last > 1<<40 {
		return 0, 0, false
	}
	return first, last, true
}

// vbArray joins JSON rows into an array.
func vbArray(rows [][]byte) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// vbWrite writes a complete JSON answer.
func vbWrite(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// vbError writes an OAuth-style error body {"error","error_description"}.
func vbError(w http.ResponseWriter, status int, code, desc string) {
	o := &vbObject{}
	o.add("error", code)
	o.add("error_description", desc)
	vbWrite(w, status, o.bytes())
}
