package votbox

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/secret"
)

// DefaultBaseURL is where the VotBox API scripts live.
const DefaultBaseURL = "https://www.votbox.ru/api"

// PageSize is the number of items autocall.check returns per page.
const PageSize = 10000

// TaskIDRule says what ValidTaskID accepts, for messages.
const TaskIDRule = "want a task id of letters, digits, '.', '_' or '-' (task.id of autocall.get.task)"

// DefaultDetailConcurrency is Config.DetailConcurrency when 0.
const DefaultDetailConcurrency = 4

// Config configures the VotBox source.
type Config struct {
	BaseURL  string       // the directory holding the *.api.php scripts; DefaultBaseURL when empty
	Username string       // VotBox user name; also the account of the rows
	Password secret.Value // the plain password; only its MD5 hash is sent
	// TaskIDs are tasks to extract on every run besides the active ones
	// (autocall.get.task) and those the pipeline remembers as not final.
	TaskIDs []string
	// Detail calls autocall.detail for every final item and merges the
	// answer into votbox_calls (one request per item: off by default).
	Detail            bool
	DetailConcurrency int // detail requests in flight per task (default 4)
	HTTP              httpx.Config
}

// ValidTaskID reports whether id can be a task id: what the pipeline can
// keep as an item key (letters, digits, '.', '_', '-'). The vendor document
// types taskid as Text, so ids are not assumed numeric. The one rule for
// configured ids (sources.votbox.task_ids), the client and the ids
// autocall.get.task answers.
func ValidTaskID(id string) bool {
	if id == "" {
		return false
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// login is the VotBox credentials as the API takes them: the user name
// and the lowercase hex MD5 hash of the password (a credential itself),
// sent in the form body of every request, the API's and the recordings'.
type login struct {
	username string
	hash     secret.Value
}

// newLogin hashes the password once and registers both the password and
// the hash with red.
func newLogin(username string, password secret.Value, red *secret.Redactor) login {
	sum := md5.Sum([]byte(password.Reveal()))
	hash := hex.EncodeToString(sum[:])
	red.Add(password.Reveal(), hash)
	return login{username: username, hash: secret.New(hash)}
}

// form returns the credentials' form fields with extra's added.
func (l login) form(extra url.Values) url.Values {
	f := url.Values{}
	for k, v := range extra {
		f[k] = v
	}
	f.Set("username", l.username)
	f.Set("password", l.hash.Reveal())
	return f
}

// Client talks to the VotBox autocall API. It is safe for concurrent use.
type Client struct {
	cfg   Config
	login login // user name and password hash, for every request
	http  *httpx.Client
	red   *secret.Redactor
	log   *slog.Logger
}

// New returns a client. It computes the password's MD5 hash once and
// registers both the password and the hash with cfg.HTTP.Redactor (creating
// one when nil), so neither appears in errors or log lines.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("votbox: base URL %q: want http(s)://host/path", cfg.BaseURL)
	}
	if cfg.Username == "" {
		return nil, errors.New("votbox: username not configured")
	}
	if cfg.Password.IsZero() {
		return nil, errors.New("votbox: password not configured")
	}
	for _, id := range cfg.TaskIDs {
		if !ValidTaskID(id) {
			return nil, fmt.Errorf("votbox: task id %q: %s", id, TaskIDRule)
		}
	}
	if cfg.DetailConcurrency <= 0 {
		cfg.DetailConcurrency = DefaultDetailConcurrency
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP.Concurrency <= 0 {
		cfg.HTTP.Concurrency = 4
	}
	if cfg.HTTP.Name == "" {
		cfg.HTTP.Name = Name
	}
	if cfg.HTTP.Redactor == nil {
		cfg.HTTP.Redactor = secret.NewRedactor()
	}
	login := newLogin(cfg.Username, cfg.Password, cfg.HTTP.Redactor)
	cfg.HTTP.Logger = log
	return &Client{
		cfg:   cfg,
		login: login,
		http:  httpx.New(cfg.HTTP),
		red:   cfg.HTTP.Redactor,
		log:   slog.New(secret.NewHandler(log.Handler(), cfg.HTTP.Redactor)).With("source", Name),
	}, nil
}

// Username returns the configured user name (the rows' account).
func (c *Client) Username() string { return c.cfg.Username }

// call posts form (plus username and password hash) to script and returns
// the decoded answer. A VotBox <error> answer is a permanent *APIError
// (retried when the HTTP status is 429 or 5xx); a body that is not readable
// XML is retried (a proxy's page, a cut connection) and, if it persists,
// reported with its first bytes.
func (c *Client) call(ctx context.Context, op, script string, form url.Values) (*Answer, error) {
	u := c.cfg.BaseURL + "/" + script
	newReq := func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(c.login.form(form).Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/xml, application/xml")
		return req, nil
	}
	var answer *Answer
	check := func(resp *http.Response, body []byte) error {
		a, err := Decode(body, contentCharset(resp.Header.Get("Content-Type")))
		if err := httpx.CheckAnswer[*APIError](resp, body, err); err != nil {
			return err
		}
		answer = a
		return nil
	}
	if _, err := c.http.Do(ctx, op, newReq, check); err != nil {
		return nil, err
	}
	return answer, nil
}

// contentCharset returns the charset parameter of a Content-Type header.
func contentCharset(ct string) string {
	_, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return params["charset"]
}

// ActiveTasks calls autocall.get.task and returns the ids of the active
// tasks, in the order sent, without duplicates.
func (c *Client) ActiveTasks(ctx context.Context) ([]string, error) {
	a, err := c.call(ctx, "autocall.get.task", "autocall.get.task.api.php", nil)
	if err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for _, t := range a.Tasks {
		id, _ := t.Field("id")
		if id == "" {
			return nil, fmt.Errorf("votbox: autocall.get.task: a task without id: %s", t.XML())
		}
		if !ValidTaskID(id) {
			return nil, fmt.Errorf("votbox: autocall.get.task: task id %q is not a usable key", id)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Check calls autocall.check for one page of a task (page 0: the task
// without items; pages of PageSize items from 1).
func (c *Client) Check(ctx context.Context, taskID string, page int) (*Answer, error) {
	op := "autocall.check taskid " + taskID
	if page != 1 {
		op += " page " + strconv.Itoa(page)
	}
	return c.call(ctx, op, "autocall.check.api.php", url.Values{"taskid": {taskID}, "page": {strconv.Itoa(page)}})
}

// Page is one page of a task's items.
type Page struct {
	N     int        // 1-based
	Task  *Element   // the page's <task>, nil when it has none
	Items []*Element // the page's <item> elements
}

// TaskPages pages through autocall.check for taskID from page 1 and calls fn
// for every page, in order, in the calling goroutine, up to the first page
// with fewer than PageSize items (or none). It stops at fn's first error.
func (c *Client) TaskPages(ctx context.Context, taskID string, fn func(Page) error) error {
	for n := 1; ; n++ {
		a, err := c.Check(ctx, taskID, n)
		if err != nil {
			return err
		}
		p := Page{N: n, Items: a.Items}
		if len(a.Tasks) > 0 {
			p.Task = a.Tasks[0]
		}
		if err := fn(p); err != nil {
			return err
		}
		if len(a.Items) < PageSize {
			return nil
		}
	}
}

// Detail calls autocall.detail for one item and returns the element that
// describes it: the answer's first <item> (or <call>/<detail>), else its
// root.
func (c *Client) Detail(ctx context.Context, itemID string) (*Element, error) {
	a, err := c.call(ctx, "autocall.detail itemid "+itemID, "autocall.detail.api.php", url.Values{"itemid": {itemID}})
	if err != nil {
		return nil, err
	}
	if len(a.Items) > 0 {
		return a.Items[0], nil
	}
	for _, ch := range a.Root.Children {
		if strings.EqualFold(ch.Name, "call") || strings.EqualFold(ch.Name, "detail") {
			return ch, nil
		}
	}
	return a.Root, nil
}

// Ping calls autocall.get.task once: a cheap authenticated call for `etl check`.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.ActiveTasks(ctx)
	return err
}
