package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/calletl/calletl/receive"
	"github.com/calletl/calletl/sandbox"
)

// receivePushCommand is `etl receive push`: the vendors' side, to try a
// receiver (the sandbox pusher).
func (a *app) receivePushCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "push URL",
		Short: "Send the vendors' notifications to a receiver, as VotBox or MTT would",
		Long: `Send notifications to an etl receive endpoint the way the vendor does: the
documents' own example events, then generated calls (VotBox: CALLOUT, STARTCALL,
ENDCALL with costs; MTT: smart-call o and h events). Each event is resent on a
5xx or a connection error until acknowledged. --faults mixes in duplicates,
requests with a wrong secret (must get 403) and malformed ones (must get 400).
URL is the endpoint with its secret: http://HOST/v1/<vendor>/<source>/<secret>.`,
		Example: `  etl receive push http://127.0.0.1:8090/v1/votbox/votbox/$SECRET --calls 1000 --concurrency 8
  etl receive push http://127.0.0.1:8090/v1/mtt/mtt/$SECRET --faults`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	calls := fs.Int("calls", 100, "generated calls after the examples")
	conc := fs.Int("concurrency", 4, "requests in flight")
	faults := fs.Bool("faults", false, "duplicates, wrong secrets and malformed requests mixed in")
	attempts := fs.Int("max-attempts", 100, "sends of one event at most")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, args []string) error {
		return a.cmdReceivePush(ctx, args[0], *calls, *conc, *attempts, *faults)
	})
	return c
}

func (a *app) cmdReceivePush(ctx context.Context, target string, calls, conc, attempts int, faults bool) error {
	u, err := url.Parse(target)
	parts := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || len(parts) != 4 || parts[0] != "v1" ||
		!slices.Contains([]string{receive.VotBox, receive.MTT}, parts[1]) {
		return &usageError{"URL: want http(s)://HOST/v1/<votbox|mtt>/<source>/<secret>"}
	}
	a.redactor.Add(parts[3])
	vendor := parts[1]
	var evs []sandbox.PushEvent
	now := time.Now().UTC()
	if vendor == receive.VotBox {
		gen, _ := sandbox.GenVotBox(uint64(now.UnixNano()), int(now.Unix()%1e6)*1000, calls, now)
		evs = append(slices.Clone(sandbox.VotBoxNotifyExamples), gen...)
	} else {
		evs = append(slices.Clone(sandbox.MTTEventExamples), sandbox.GenMTT(uint64(now.UnixNano()), calls, now)...)
	}
	cfg := sandbox.PushConfig{URL: target, Vendor: vendor, Concurrency: conc, MaxAttempts: attempts, Backoff: 100 * time.Millisecond}
	if faults {
		cfg.Faults = sandbox.PushFaults{DuplicateEvery: 7, BadSecretEvery: 11, MalformedEvery: 13}
	}
	start := time.Now()
	res := sandbox.NewPusher(cfg).Push(ctx, evs, nil)
	acked := 0
	for _, ok := range res.Acked {
		if ok {
			acked++
		}
	}
	el := time.Since(start)
	fmt.Fprintf(a.stdout, "%d of %d events acknowledged in %s (%.0f/s), %d requests; answers by status: %v",
		acked, len(evs), el.Round(time.Millisecond), float64(acked)/el.Seconds(), res.Attempts, res.Status)
	if faults {
		fmt.Fprintf(a.stdout, "; fault requests refused as expected %d, otherwise %d", res.FaultsRefusedRight, res.FaultsWrong)
	}
	fmt.Fprintln(a.stdout)
	if acked != len(evs) || res.FaultsWrong > 0 {
		return fmt.Errorf("receive push: %d events not acknowledged, %d fault requests answered wrongly", len(evs)-acked, res.FaultsWrong)
	}
	return nil
}
