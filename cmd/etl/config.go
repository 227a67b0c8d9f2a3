package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/mobilgroup"
	"github.com/calletl/calletl/extract/mtt"
	"github.com/calletl/calletl/extract/t2"
	"github.com/calletl/calletl/extract/voicebox"
	"github.com/calletl/calletl/extract/votbox"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/storage"
)

// Config is the etl.yaml file. configs/etl.example.yaml documents every
// field; keep the two in step.
type Config struct {
	Lake         string            `yaml:"lake"`
	State        string            `yaml:"state"`
	Timezone     string            `yaml:"timezone"`
	LookbackDays *int              `yaml:"lookback_days"`
	ItemMaxAge   *int              `yaml:"item_max_age_days"`
	StartDate    string            `yaml:"start_date"`
	MemoryLimit  string            `yaml:"memory_limit"`
	MaxRunTime   *maxRunTime       `yaml:"max_run_time"` // nil = defaultMaxRunTime; 0 = no limit
	LakeFileMode string            `yaml:"lake_file_mode"`
	LakeDirMode  string            `yaml:"lake_dir_mode"`
	Recordings   *RecordingsConfig `yaml:"recordings"`
	S3           *S3Config         `yaml:"s3"` // the S3 connection of every S3 location (storage.go)
	Sources      SourcesConfig     `yaml:"sources"`

	// LeaseTTL is, with the state on S3, how long a run's (or shard's)
	// lease lasts without renewal (storage.go).
	LeaseTTL time.Duration `yaml:"lease_ttl"`

	// CompactAfterRun runs `etl compact` at the end of `etl run`.
	CompactAfterRun bool `yaml:"compact_after_run"`
	// BodyBytesInFlight bounds the bytes of API response bodies held at
	// once, across every source (see httpx.Budget).
	BodyBytesInFlight string `yaml:"max_body_bytes_in_flight"`
	// DataQuality and Metrics: the checks after a run and where the
	// figures go (dq.go, defaulted by validateObservability).
	DataQuality *DataQualityConfig `yaml:"data_quality"`
	Metrics     *MetricsConfig     `yaml:"metrics"`

	dir         string           // directory of the config file: relative paths start here
	location    *time.Location   // Timezone, loaded
	memoryLimit int64            // MemoryLimit in bytes
	lines       map[string]int   // line of each field in the file, for errors
	warnings    []*FieldError    // suspicious but valid settings, logged by the commands
	lakeModes   [2]os.FileMode   // LakeFileMode, LakeDirMode, parsed, defaults applied
	lakeLoc     storage.Location // Lake, parsed: a directory or an S3 bucket/prefix
	stateLoc    storage.Location // State, parsed
	bodyBudget  int64            // BodyBytesInFlight in bytes
}

// warn records a warning about a valid but suspicious setting.
func (c *Config) warn(field, format string, args ...any) {
	c.warnings = append(c.warnings, &FieldError{Line: c.lines[field], Field: field, Msg: fmt.Sprintf(format, args...)})
}

// SourcesConfig has one section per vendor; a missing section is off.
type SourcesConfig struct {
	MTT        *MTTConfig        `yaml:"mtt"`
	T2         *T2Config         `yaml:"t2"`
	VotBox     *VotBoxConfig     `yaml:"votbox"`
	VoiceBox   *VoiceBoxConfig   `yaml:"voicebox"`
	Mobilgroup *MobilgroupConfig `yaml:"mobilgroup"`
}

// MobilgroupConfig is sources.mobilgroup.
type MobilgroupConfig struct {
	Enabled      *bool      `yaml:"enabled"`
	BaseURL      string     `yaml:"base_url"`
	APIKey       SecretRef  `yaml:"api_key"`
	Account      string     `yaml:"account"`
	BroadcastIDs []string   `yaml:"broadcast_ids"`
	IDsFile      string     `yaml:"broadcast_ids_file"`
	HTTP         HTTPConfig `yaml:"http"`
}

func (m *MobilgroupConfig) on() bool { return m != nil && (m.Enabled == nil || *m.Enabled) }

func (m *MobilgroupConfig) validate(bad func(field, format string, args ...any)) {
	const p = "sources.mobilgroup."
	if m.BaseURL == "" {
		m.BaseURL = mobilgroup.DefaultBaseURL
	}
	if !strings.HasPrefix(m.BaseURL, "https://") && !strings.HasPrefix(m.BaseURL, "http://") {
		bad(p+"base_url", "%q: want an http(s) URL; requests go to base_url + /api/get/", m.BaseURL)
	}
	validateSecret(bad, p+"api_key", m.APIKey)
	for i, id := range m.BroadcastIDs {
		if !mobilgroup.ValidKey(id) {
			bad(fmt.Sprintf("%sbroadcast_ids[%d]", p, i), "%q: want the broadcast id /api/send/ returned (letters, digits, . _ -)", id)
		}
	}
	noDuplicates(bad, p+"broadcast_ids", m.BroadcastIDs)
	if len(m.BroadcastIDs) == 0 && m.IDsFile == "" {
		bad(p+"broadcast_ids", "Mobilgroup has no endpoint that lists broadcasts: give broadcast_ids, broadcast_ids_file (one id per line, appended by whoever sends broadcasts), or both")
	}
	m.HTTP.validate(bad, p+"http.")
}

// VoiceBoxConfig is sources.voicebox.
type VoiceBoxConfig struct {
	Enabled      *bool      `yaml:"enabled"`
	BaseURL      string     `yaml:"base_url"`
	TokenURL     string     `yaml:"token_url"`
	ClientID     string     `yaml:"client_id"`
	ClientSecret SecretRef  `yaml:"client_secret"`
	Username     string     `yaml:"username"`
	Password     SecretRef  `yaml:"password"`
	Customers    []string   `yaml:"customers"`
	PageSize     int        `yaml:"page_size"`
	HTTP         HTTPConfig `yaml:"http"`
}

func (v *VoiceBoxConfig) on() bool { return v != nil && (v.Enabled == nil || *v.Enabled) }

func (v *VoiceBoxConfig) validate(bad func(field, format string, args ...any)) {
	const p = "sources.voicebox."
	if !strings.HasPrefix(v.BaseURL, "https://") && !strings.HasPrefix(v.BaseURL, "http://") {
		bad(p+"base_url", "%q: want the http(s) URL of the VoiceBox API (the part before /customers/…); the vendor's document names no host, so it is required", v.BaseURL)
	}
	if v.TokenURL != "" && !strings.HasPrefix(v.TokenURL, "https://") && !strings.HasPrefix(v.TokenURL, "http://") {
		bad(p+"token_url", "%q: want the http(s) URL of the OAuth 2.0 token endpoint (default base_url + /oauth/token)", v.TokenURL)
	}
	if v.ClientID == "" {
		bad(p+"client_id", "required: the OAuth 2.0 client id MTT issued for VoiceBox")
	}
	validateSecret(bad, p+"client_secret", v.ClientSecret)
	if v.Username == "" {
		bad(p+"username", "required: the VoiceBox user for the OAuth 2.0 password flow")
	}
	validateSecret(bad, p+"password", v.Password)
	if len(v.Customers) == 0 {
		bad(p+"customers", "required: at least one customer id (the {customer_id} of /customers/{customer_id}/callhistory)")
	}
	for i, id := range v.Customers {
		if id == "" || strings.Trim(id, "0123456789") != "" {
			bad(fmt.Sprintf("%scustomers[%d]", p, i), "%q: want a numeric customer id", id)
		}
	}
	noDuplicates(bad, p+"customers", v.Customers)
	if v.PageSize < 0 || v.PageSize > voicebox.MaxPageSize {
		bad(p+"page_size", "%d: must be 1..%d (rows per Range page; default %d)", v.PageSize, voicebox.MaxPageSize, voicebox.DefaultPageSize)
	}
	v.HTTP.validate(bad, p+"http.")
}

// VotBoxConfig is sources.votbox.
type VotBoxConfig struct {
	Enabled           *bool      `yaml:"enabled"`
	BaseURL           string     `yaml:"base_url"`
	Username          string     `yaml:"username"`
	Password          SecretRef  `yaml:"password"`
	TaskIDs           []string   `yaml:"task_ids"`
	Detail            bool       `yaml:"detail"`
	DetailConcurrency int        `yaml:"detail_concurrency"`
	HTTP              HTTPConfig `yaml:"http"`
}

func (v *VotBoxConfig) on() bool { return v != nil && (v.Enabled == nil || *v.Enabled) }

func (v *VotBoxConfig) validate(bad func(field, format string, args ...any)) {
	const p = "sources.votbox."
	if v.BaseURL == "" {
		v.BaseURL = votbox.DefaultBaseURL
	}
	if !strings.HasPrefix(v.BaseURL, "https://") && !strings.HasPrefix(v.BaseURL, "http://") {
		bad(p+"base_url", "%q: want an http(s) URL of the directory holding the *.api.php scripts", v.BaseURL)
	}
	if v.Username == "" {
		bad(p+"username", "required: the VotBox user name")
	}
	validateSecret(bad, p+"password", v.Password)
	for i, id := range v.TaskIDs {
		if id == "" || strings.Trim(id, "0123456789") != "" {
			bad(fmt.Sprintf("%stask_ids[%d]", p, i), "%q: want a numeric task id", id)
		}
	}
	noDuplicates(bad, p+"task_ids", v.TaskIDs)
	if v.DetailConcurrency < 0 || v.DetailConcurrency > 32 {
		bad(p+"detail_concurrency", "%d: must be 1..32", v.DetailConcurrency)
	}
	v.HTTP.validate(bad, p+"http.")
}

// SecretRef says where a secret is: an environment variable or a file.
// Secrets are never written in the config itself.
type SecretRef struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// httpSections returns the http section of every configured source.
func (c *Config) httpSections() []*HTTPConfig {
	var out []*HTTPConfig
	if m := c.Sources.MTT; m != nil {
		out = append(out, &m.HTTP)
	}
	if t := c.Sources.T2; t != nil {
		out = append(out, &t.HTTP)
	}
	if v := c.Sources.VotBox; v != nil {
		out = append(out, &v.HTTP)
	}
	if v := c.Sources.VoiceBox; v != nil {
		out = append(out, &v.HTTP)
	}
	if m := c.Sources.Mobilgroup; m != nil {
		out = append(out, &m.HTTP)
	}
	return out
}

// HTTPConfig tunes the HTTP core of one source.
type HTTPConfig struct {
	Concurrency           int           `yaml:"concurrency"`
	RatePerSec            float64       `yaml:"rate_per_sec"`
	MaxAttempts           int           `yaml:"max_attempts"`
	BaseBackoff           time.Duration `yaml:"base_backoff"`
	MaxBackoff            time.Duration `yaml:"max_backoff"`
	MaxRetryAfter         time.Duration `yaml:"max_retry_after"`
	MaxBodyBytes          int64         `yaml:"max_body_bytes"`
	ResponseHeaderTimeout time.Duration `yaml:"response_header_timeout"`
	AttemptTimeout        time.Duration `yaml:"attempt_timeout"`
	IdleTimeout           time.Duration `yaml:"idle_timeout"`

	budget *httpx.Budget // the run's one body budget, shared by every source (buildSources)
}

// MTTConfig is sources.mtt.
type MTTConfig struct {
	Enabled        *bool      `yaml:"enabled"`
	BaseURL        string     `yaml:"base_url"`
	Username       string     `yaml:"username"`
	Password       SecretRef  `yaml:"password"`
	Customers      []string   `yaml:"customers"`
	Types          []string   `yaml:"types"`
	PageSize       int        `yaml:"page_size"`
	VendorTimezone string     `yaml:"vendor_timezone"`
	HTTP           HTTPConfig `yaml:"http"`

	vendor *time.Location
}

// T2Config is sources.t2.
type T2Config struct {
	Enabled      *bool      `yaml:"enabled"`
	BaseURL      string     `yaml:"base_url"`
	AccessToken  SecretRef  `yaml:"access_token"`
	RefreshToken SecretRef  `yaml:"refresh_token"`
	TokenFile    string     `yaml:"token_file"`
	PageSize     int        `yaml:"page_size"`
	MCNNumbers   []string   `yaml:"mcn_numbers"`
	HTTP         HTTPConfig `yaml:"http"`
}

func (t *T2Config) on() bool { return t != nil && (t.Enabled == nil || *t.Enabled) }

func (t *T2Config) validate(c *Config, bad func(field, format string, args ...any)) {
	const p = "sources.t2."
	if t.BaseURL == "" {
		t.BaseURL = t2.DefaultBaseURL
	}
	if !strings.HasPrefix(t.BaseURL, "https://") && !strings.HasPrefix(t.BaseURL, "http://") {
		bad(p+"base_url", "%q: want an http(s) URL ending in /crm/openapi", t.BaseURL)
	}
	validateSecret(bad, p+"access_token", t.AccessToken)
	validateSecret(bad, p+"refresh_token", t.RefreshToken)
	if loc, err := storage.ParseURL(c.State); t.TokenFile == "" && err == nil && !loc.IsS3() {
		// With the state on S3 the pair is an object beside state.json
		// (see buildSources); token_file, when set, is a local file.
		t.TokenFile = filepath.Join(c.State, "t2-tokens.json")
	}
	if t.PageSize == 0 {
		t.PageSize = 500
	}
	if t.PageSize < 1 || t.PageSize > t2.MaxPageSize {
		bad(p+"page_size", "%d: must be 1..%d", t.PageSize, t2.MaxPageSize)
	}
	noDuplicates(bad, p+"mcn_numbers", t.MCNNumbers)
	t.HTTP.validate(bad, p+"http.")
}

// RecordingsConfig is the recordings section: where recordings go and how
// hard to fetch them.
type RecordingsConfig struct {
	Enabled        *bool         `yaml:"enabled"`
	Local          string        `yaml:"local"`
	S3             *S3Config     `yaml:"s3"`
	Concurrency    int           `yaml:"concurrency"`
	PerHost        int           `yaml:"per_host"`
	MaxAttempts    int           `yaml:"max_attempts"`
	RetryBase      time.Duration `yaml:"retry_base"`
	MTTRecordsBase string        `yaml:"mtt_records_base"`
}

// S3Config is the top-level s3 section (the connection: no bucket or
// prefix) and recordings.s3 (bucket and prefix, and connection fields that
// override the top-level ones for recordings; see Config.openS3).
type S3Config struct {
	Endpoint  string    `yaml:"endpoint"`
	Region    string    `yaml:"region"`
	Bucket    string    `yaml:"bucket"`
	Prefix    string    `yaml:"prefix"`
	PathStyle bool      `yaml:"path_style"`
	AccessKey SecretRef `yaml:"access_key"`
	SecretKey SecretRef `yaml:"secret_key"`
	PartSize  string    `yaml:"part_size"`
	Checksums bool      `yaml:"checksums"`

	partSize int64
}

func (r *RecordingsConfig) on() bool { return r != nil && (r.Enabled == nil || *r.Enabled) }

func (r *RecordingsConfig) validate(bad func(field, format string, args ...any)) {
	const p = "recordings."
	switch {
	case r.Local == "" && r.S3 == nil:
		bad(p+"local", "set local (a directory) or s3 (a bucket) as the store")
	case r.Local != "" && r.S3 != nil:
		bad(p+"local", "set local or s3, not both")
	}
	if s := r.S3; s != nil {
		if s.Bucket == "" {
			bad(p+"s3.bucket", "required")
		}
		s.validateConn(bad, p+"s3.")
	}
	if r.Concurrency < 0 || r.PerHost < 0 || r.MaxAttempts < 0 {
		bad(p+"concurrency", "concurrency, per_host and max_attempts must be ≥ 0 (0 = default)")
	}
}

// FieldError is a config error that names the field at fault (and its
// line, when known). Every config error is one: the CLI exits 2 on it.
type FieldError struct {
	File  string
	Line  int    // 1-based line in the file; 0 when unknown
	Field string // dotted path, e.g. sources.mtt.customers; "" for the whole file
	Msg   string
}

func (e *FieldError) Error() string {
	s := "config " + e.File + ": "
	if e.Line > 0 {
		s += fmt.Sprintf("line %d: ", e.Line)
	}
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Msg
}

// Defaults applied by LoadConfig.
const (
	defaultTimezone = "Europe/Moscow"
	defaultLookback = 2
	// defaultItemMaxAgeDays bounds how long an item is polled (item_max_age_days).
	defaultItemMaxAgeDays = 30
	// defaultMemoryLimit is the Go runtime's soft memory limit: with it the
	// nightly run's peak RSS stays flat under 256 MB whatever the row
	// count (BENCHMARKS.md).
	defaultMemoryLimit = "160MiB"
	// defaultMaxRunTime ends a stuck run (max_run_time): a nightly job
	// started every 24h must have stopped, and released the lock, well
	// before the next night's start; a normal night takes minutes.
	defaultMaxRunTime = 20 * time.Hour
)

// LoadConfig reads, defaults and validates a config file. Unknown fields
// are errors, so a typo does not silently turn a setting off.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &FieldError{File: path, Msg: "not found: pass --config FILE, set CALLETL_CONFIG, or start from configs/etl.example.yaml (`etl demo` writes a working one)"}
		}
		return nil, &FieldError{File: path, Msg: fmt.Sprintf("cannot be read: %v", err)}
	}
	var c Config
	c.lines = map[string]int{}
	if err := decodeConfig(path, b, &c, c.lines); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &FieldError{File: path, Msg: err.Error()}
	}
	c.dir = filepath.Dir(abs)
	if err := c.validate(path); err != nil {
		return nil, err
	}
	for _, w := range c.warnings {
		w.File = path
	}
	return &c, nil
}

func (c *Config) validate(file string) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{File: file, Line: c.lines[field], Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Lake == "" {
		bad("lake", "required: the directory of the Parquet lake")
	}
	if c.State == "" {
		bad("state", "required: the directory for cursors and the run lock")
	}
	c.validateStorage(bad)
	if c.Timezone == "" {
		c.Timezone = defaultTimezone
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		bad("timezone", "unknown time zone %q (use an IANA name such as Europe/Moscow)", c.Timezone)
	}
	c.location = loc
	if c.ItemMaxAge == nil {
		n := defaultItemMaxAgeDays
		c.ItemMaxAge = &n
	} else if *c.ItemMaxAge < 0 || *c.ItemMaxAge > 3660 {
		bad("item_max_age_days", "%d: must be 0 (poll forever) to 3660", *c.ItemMaxAge)
	}
	if c.LookbackDays == nil {
		n := defaultLookback
		c.LookbackDays = &n
	} else if *c.LookbackDays < 0 || *c.LookbackDays > 366 {
		bad("lookback_days", "%d: must be 0..366", *c.LookbackDays)
	}
	if c.StartDate != "" {
		if _, err := time.Parse(model.DayLayout, c.StartDate); err != nil {
			bad("start_date", "%q: want YYYY-MM-DD", c.StartDate)
		} else if loc != nil && c.StartDate > model.Day(time.Now(), loc) {
			c.warn("start_date", "%s is after today (%s, %s): streams without a cursor extract nothing until that day", c.StartDate, model.Day(time.Now(), loc), c.Timezone)
		}
	}
	if c.MemoryLimit == "" {
		c.MemoryLimit = defaultMemoryLimit
	}
	if n, err := parseBytes(c.MemoryLimit); err != nil || n < 32<<20 {
		bad("memory_limit", "%q: want a size of at least 32MiB such as 192MiB or 1GiB", c.MemoryLimit)
	} else {
		c.memoryLimit = n
	}
	if c.MaxRunTime == nil {
		d := maxRunTime(defaultMaxRunTime)
		c.MaxRunTime = &d
	} else if *c.MaxRunTime < 0 {
		bad("max_run_time", "%v: want a duration such as 20h, or 0 for no limit", time.Duration(*c.MaxRunTime))
	}
	c.validateLakeModes(bad)
	if c.BodyBytesInFlight == "" {
		// 2/5 of the memory limit: 64MiB with the default 160MiB, room
		// for one 64 MiB body (the default max_body_bytes), its decoded
		// copy and the lake writers' buffers.
		c.bodyBudget = max(c.memoryLimit*2/5, 1<<20)
	} else if n, err := parseBytes(c.BodyBytesInFlight); err != nil || n < 1<<20 {
		bad("max_body_bytes_in_flight", "%q: want a size of at least 1MiB such as 64MiB", c.BodyBytesInFlight)
	} else {
		c.bodyBudget = n
	}
	if c.Recordings.on() {
		c.Recordings.validate(bad)
	}
	enabled := 0
	if m := c.Sources.MTT; m != nil && (m.Enabled == nil || *m.Enabled) {
		enabled++
		m.validate(bad)
	}
	if c.Sources.T2.on() {
		enabled++
		c.Sources.T2.validate(c, bad)
	}
	if c.Sources.VotBox.on() {
		enabled++
		c.Sources.VotBox.validate(bad)
	}
	if c.Sources.VoiceBox.on() {
		enabled++
		c.Sources.VoiceBox.validate(bad)
	}
	if c.Sources.Mobilgroup.on() {
		enabled++
		c.Sources.Mobilgroup.validate(bad)
	}
	c.validateObservability(bad)
	if enabled == 0 {
		bad("sources", "no source is enabled: configure sources.mtt, sources.t2, sources.votbox, sources.mobilgroup or sources.voicebox (see configs/etl.example.yaml)")
	}
	return errors.Join(errs...)
}

func (m *MTTConfig) validate(bad func(field, format string, args ...any)) {
	const p = "sources.mtt."
	if m.BaseURL == "" {
		m.BaseURL = mtt.DefaultBaseURL
	}
	if !strings.HasPrefix(m.BaseURL, "https://") && !strings.HasPrefix(m.BaseURL, "http://") {
		bad(p+"base_url", "%q: want an http(s) URL", m.BaseURL)
	}
	if m.Username == "" {
		bad(p+"username", "required: the Basic auth user")
	}
	validateSecret(bad, p+"password", m.Password)
	if len(m.Customers) == 0 {
		bad(p+"customers", "at least one customer (personal account, customer_name) is required")
	}
	for i, cu := range m.Customers {
		if cu == "" || strings.ContainsAny(cu, "/\\ .") {
			bad(fmt.Sprintf("%scustomers[%d]", p, i), "%q is not a customer name", cu)
		}
	}
	noDuplicates(bad, p+"customers", m.Customers)
	noDuplicates(bad, p+"types", m.Types)
	for i, t := range m.Types {
		if !contains(mtt.Types, t) {
			bad(fmt.Sprintf("%stypes[%d]", p, i), "%q: want one of %s", t, strings.Join(mtt.Types, ", "))
		}
	}
	if m.PageSize == 0 {
		m.PageSize = mtt.MaxPageSize
	}
	if m.PageSize < 1 || m.PageSize > mtt.MaxPageSize {
		bad(p+"page_size", "%d: must be 1..%d (the API caps record_count at 1000)", m.PageSize, mtt.MaxPageSize)
	}
	if m.VendorTimezone == "" {
		m.VendorTimezone = "UTC"
	}
	loc, err := time.LoadLocation(m.VendorTimezone)
	if err != nil {
		bad(p+"vendor_timezone", "unknown time zone %q", m.VendorTimezone)
	}
	m.vendor = loc
	m.HTTP.validate(bad, p+"http.")
}

func (h *HTTPConfig) validate(bad func(field, format string, args ...any), p string) {
	if h.Concurrency < 0 || h.Concurrency > 64 {
		bad(p+"concurrency", "%d: must be 1..64", h.Concurrency)
	}
	if h.RatePerSec < 0 {
		bad(p+"rate_per_sec", "%v: must be ≥ 0 (0 = unlimited)", h.RatePerSec)
	}
	if h.MaxAttempts < 0 || h.MaxAttempts > 20 {
		bad(p+"max_attempts", "%d: must be 1..20", h.MaxAttempts)
	}
	if h.BaseBackoff < 0 || h.MaxBackoff < 0 || h.MaxRetryAfter < 0 {
		bad(p+"max_backoff", "backoff durations must be ≥ 0")
	}
	if h.MaxBodyBytes < 0 {
		bad(p+"max_body_bytes", "must be ≥ 0")
	}
	if h.IdleTimeout < 0 {
		bad(p+"idle_timeout", "%v: must be ≥ 0 (0 = default 60s)", h.IdleTimeout)
	}
}

// noDuplicates reports each entry of list that repeats an earlier one, once:
// a customer listed twice would run its streams twice, side by side.
func noDuplicates(bad func(field, format string, args ...any), field string, list []string) {
	first := map[string]int{}
	for i, v := range list {
		if j, dup := first[v]; dup {
			bad(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice (also %s[%d]): list it once", v, field[strings.LastIndexByte(field, '.')+1:], j)
			continue
		}
		first[v] = i
	}
}

func validateSecret(bad func(field, format string, args ...any), field string, s SecretRef) {
	switch {
	case s.Env == "" && s.File == "":
		bad(field, "required: {env: VAR} or {file: PATH}; secrets are never written in the config")
	case s.Env != "" && s.File != "":
		bad(field, "set env or file, not both")
	}
}

// validateLakeModes parses lake_file_mode and lake_dir_mode: octal
// permissions such as "0640" or "0o640"; empty means load's defaults
// (0640 and 0750).
func (c *Config) validateLakeModes(bad func(field, format string, args ...any)) {
	parse := func(field, value string) os.FileMode {
		if value == "" {
			return 0
		}
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(value), "0o"), 8, 32)
		if err != nil {
			bad(field, "%q: want octal permissions such as 0640 (files) or 0750 (directories)", value)
			return 0
		}
		return os.FileMode(n)
	}
	file, dir := parse("lake_file_mode", c.LakeFileMode), parse("lake_dir_mode", c.LakeDirMode)
	if err := load.CheckModes(file, 0); err != nil {
		bad("lake_file_mode", "%q: %s", c.LakeFileMode, strings.TrimPrefix(err.Error(), "load: "))
	}
	if err := load.CheckModes(0, dir); err != nil {
		bad("lake_dir_mode", "%q: %s", c.LakeDirMode, strings.TrimPrefix(err.Error(), "load: "))
	}
	c.lakeModes = [2]os.FileMode{cmp.Or(file, load.DefaultFileMode), cmp.Or(dir, load.DefaultDirMode)}
}

// lakeOptions returns the lake's options from the config.
func (c *Config) lakeOptions() load.Options {
	return load.Options{FileMode: c.lakeModes[0], DirMode: c.lakeModes[1]}
}

// makeLake creates the lake directory, if missing, with the lake's
// directory mode, for commands that only read it, and returns its path.
func (c *Config) makeLake() (string, error) {
	dir := c.path(c.Lake)
	return dir, load.MkdirRoot(dir, c.lakeModes[1])
}

// path resolves a path from the config relative to the config's directory.
func (c *Config) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseBytes parses a size: a number with an optional KiB, MiB or GiB
// (or KB, MB, GB as powers of 1000) suffix.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
