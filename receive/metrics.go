package receive

import (
	"fmt"
	"io"
)

// Names of the metrics the receiver's /metrics writes (the alert rules in
// deploy/prometheus name them).
const (
	MetricEvents             = "calletl_receive_events_total"
	MetricSpoolIDs           = "calletl_receive_spool_ids"
	MetricLastLandingSuccess = "calletl_receive_last_landing_success_timestamp_seconds"
	MetricLandingFailures    = "calletl_receive_landing_failures_total"
	MetricLandedRows         = "calletl_receive_landed_rows_total"
)

// MetricNames returns the name of every metric /metrics writes.
func MetricNames() []string {
	return []string{MetricEvents, MetricSpoolIDs, MetricLastLandingSuccess, MetricLandingFailures, MetricLandedRows}
}

// writeMetrics writes the receiver's figures in the Prometheus text
// format: what a long-running service offers to be scraped (unlike etl
// run's batch metrics, pushed or written once per run).
func (h *Handler) writeMetrics(w io.Writer) {
	p := func(name, help, typ string, lines ...string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
	ev := MetricEvents
	p(ev, "Notifications answered since the process started, by result: stored (200), duplicate (200, already stored), refused (4xx), failed (503, not stored).", "counter",
		fmt.Sprintf(`%s{result="stored"} %d`, ev, h.Counts.Stored.Load()),
		fmt.Sprintf(`%s{result="duplicate"} %d`, ev, h.Counts.Duplicate.Load()),
		fmt.Sprintf(`%s{result="refused"} %d`, ev, h.Counts.Refused.Load()),
		fmt.Sprintf(`%s{result="failed"} %d`, ev, h.Counts.Failed.Load()))
	if sp, ok := h.spool.(*Spool); ok {
		p(MetricSpoolIDs, "Event ids in the dedupe index (stored, or landed within the retention).", "gauge",
			fmt.Sprintf("%s %d", MetricSpoolIDs, sp.Len()))
	}
	if l := h.lander; l != nil {
		p(MetricLastLandingSuccess, "When a landing last succeeded (0: not yet since the process started).", "gauge",
			fmt.Sprintf("%s %d", MetricLastLandingSuccess, l.lastSuccess.Load()))
		p(MetricLandingFailures, "Landings that failed since the process started (retried at the next interval).", "counter",
			fmt.Sprintf("%s %d", MetricLandingFailures, l.failures.Load()))
		p(MetricLandedRows, "Rows landed in votbox_events and mtt_events since the process started.", "counter",
			fmt.Sprintf("%s %d", MetricLandedRows, l.rows.Load()))
	}
}
