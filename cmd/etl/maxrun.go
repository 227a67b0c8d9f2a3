package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/spf13/pflag"
)

// maxRunTime is the max_run_time key: a duration such as "20h" or "90m",
// or 0 for no limit (YAML's bare 0, which time.Duration does not take).
type maxRunTime time.Duration

func (m *maxRunTime) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Value == "0" {
		*m = 0
		return nil
	}
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("line %d: max_run_time %q: want a duration such as 20h or 90m, or 0 for no limit", n.Line, n.Value)
	}
	*m = maxRunTime(d)
	return nil
}

// errMaxRunTime is the cause of a run context whose max_run_time passed.
var errMaxRunTime = errors.New("max_run_time reached")

// maxRunGrace is how long a run may take to stop after max_run_time before
// the process exits anyway. Everything calletl waits on honours the
// context, so this only fires if something does not; exiting is then as
// safe as a kill (commits are atomic, the next run sweeps temp files), and
// it still ends well before the next night's run.
const maxRunGrace = 5 * time.Minute

// maxRunTimeFlag adds --max-run-time to a command's flags.
func maxRunTimeFlag(fs *pflag.FlagSet) *time.Duration {
	return fs.Duration("max-run-time", 0, "stop after this long with exit 4, like an interrupt (committed work is kept); overrides max_run_time (default 20h), 0 = no limit")
}

// runLimit is the whole-run deadline of run, backfill and recordings.
type runLimit struct {
	d    time.Duration // 0 = none
	stop context.CancelFunc
	hard *time.Timer // the backstop: exits maxRunGrace after the deadline
}

// limitRun bounds ctx by --max-run-time when the flag was given, else by
// the config's max_run_time. Call end with the command's error when done.
func (a *app) limitRun(ctx context.Context, fs *pflag.FlagSet, flagValue time.Duration, cfg *Config) (context.Context, *runLimit) {
	l := &runLimit{d: time.Duration(*cfg.MaxRunTime), stop: func() {}}
	fs.Visit(func(f *pflag.Flag) {
		if f.Name == "max-run-time" {
			l.d = flagValue
		}
	})
	if l.d <= 0 {
		return ctx, l
	}
	ctx, l.stop = context.WithTimeoutCause(ctx, l.d, errMaxRunTime)
	l.hard = time.AfterFunc(l.d+maxRunGrace, func() {
		os.Exit(a.exitWith(exitMaxRunTime, fmt.Sprintf("max_run_time %v reached and the run has not stopped %v later: exiting now", l.d, maxRunGrace),
			"committed windows are kept and the next run cleans up and resumes"))
	})
	return ctx, l
}

// end releases the deadline and, when it cut the run short (err is not
// nil: a stream or the recordings did not finish), returns exit 4 instead
// of err. A run that finished everything just as the deadline passed keeps
// its own result.
func (l *runLimit) end(ctx context.Context, err error) error {
	if l.hard != nil {
		l.hard.Stop()
	}
	l.stop()
	if err != nil && errors.Is(context.Cause(ctx), errMaxRunTime) {
		return &exitError{code: exitMaxRunTime, err: fmt.Errorf("max_run_time %v reached: the run was stopped; "+
			"committed windows are kept and the next run resumes after them (if runs legitimately take this long, "+
			"raise max_run_time or pass --max-run-time)", l.d)}
	}
	return err
}
