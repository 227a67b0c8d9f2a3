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

	"github.com/calletl/calletl/extract/registry"
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
	// Receive configures etl receive, the push receiver (receive.go).
	Receive *ReceiveConfig `yaml:"receive"`

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

// SecretRef says where a secret is: an environment variable or a file.
// Secrets are never written in the config itself.
type SecretRef = registry.SecretRef

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
func LoadConfig(path string) (*Config, error) { return readConfig(vendors(), path) }

// readConfig is LoadConfig with the vendors of reg: the sections under
// sources: are theirs.
func readConfig(reg *registry.Registry, path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &FieldError{File: path, Msg: "not found: pass --config FILE, set CALLETL_CONFIG, or start from configs/etl.example.yaml (`etl demo` writes a working one)"}
		}
		return nil, &FieldError{File: path, Msg: fmt.Sprintf("cannot be read: %v", err)}
	}
	c := Config{Sources: SourcesConfig{vendors: reg}}
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
	stateDir := ""
	if loc, err := storage.ParseURL(c.State); err == nil && !loc.IsS3() {
		stateDir = c.State
	}
	enabled := c.Sources.validate(stateDir, bad)
	c.validateObservability(bad)
	if c.Receive != nil {
		c.Receive.validate(bad)
	}
	if enabled == 0 {
		bad("sources", "no source is enabled: configure %s (see configs/etl.example.yaml)", c.Sources.choices())
	}
	return errors.Join(errs...)
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
