package votbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/transform"
)

// BalanceScript is CHECK BALANCE API: username and password only, the
// account's current balance.
const BalanceScript = "check.balance.api.php"

// BalanceEndpoint names check.balance in errors.
const BalanceEndpoint = "check.balance"

// DefaultCurrency is the currency of a balance answer that names none:
// VotBox bills in roubles.
const DefaultCurrency = "RUB"

var _ pipeline.Snapshotter = (*Source)(nil)

// Balance is a check.balance answer, lifted.
type Balance struct {
	Amount   model.Money // roubles (see LiftBalance)
	Raw      string      // the amount as written
	Currency string      // upper case; DefaultCurrency when the answer names none
}

// Names a check.balance answer may carry the amount under (matched
// case-insensitively), and the elements that may wrap it.
var (
	balanceNames = []string{"balance", "sum", "amount", "value", "money", "summa"}
	balanceWraps = []string{"balance", "account", "user", "data", "result", "response"}
)

// LiftBalance reads a check.balance answer. The document lost its example
// (API-NOTES: VotBox), so the amount is taken from the first of
// balance/sum/amount/value/money/summa found as an attribute or childless
// element of the root, else of a child element named balance, account,
// user, data, result or response (two levels at most); a root that is
// itself <balance>123.45</balance> is read from its text. The currency
// comes from a currency field beside the amount (or the root's), else
// DefaultCurrency.
//
// DECISION: the amount is in roubles. The document marks every amount it
// sends in kopecks as such (CALLPAY, OPERCALLPAY: "копеек"); check.balance
// says nothing, and a balance is shown to customers in roubles. Either
// decimal separator is accepted ("1234,56" from a PHP service with a
// Russian locale), and spaces between digit groups are dropped; anything
// else (a unit word, an empty value) is an error quoting the answer.
func LiftBalance(a *Answer) (Balance, error) {
	if a == nil || a.Root == nil {
		return Balance{}, errors.New("check.balance: empty answer")
	}
	raw, cur, ok := liftBalance(a.Root, 0)
	if !ok {
		return Balance{}, fmt.Errorf("check.balance: no %s in the answer %s", strings.Join(balanceNames, "/"), quoteXML(a.Root))
	}
	m, err := parseRoubles(raw)
	if err != nil {
		return Balance{}, fmt.Errorf("check.balance: balance %q: %w", raw, err)
	}
	cur = strings.ToUpper(strings.TrimSpace(cur))
	if cur == "" || strings.EqualFold(cur, "RUR") || strings.HasPrefix(strings.ToLower(cur), "руб") {
		cur = DefaultCurrency
	}
	return Balance{Amount: m, Raw: raw, Currency: cur}, nil
}

// liftBalance finds the amount in e or one of its wrappers.
func liftBalance(e *Element, depth int) (raw, cur string, ok bool) {
	cur, _ = e.Field("currency")
	if len(e.Children) == 0 && e.Text != "" && nameIn(e.Name, balanceNames) {
		return e.Text, cur, true
	}
	for _, n := range balanceNames {
		if v, found := e.Field(n); found && v != "" {
			return v, cur, true
		}
	}
	if depth >= 2 {
		return "", "", false
	}
	for _, c := range e.Children {
		if (len(c.Attrs) == 0 && len(c.Children) == 0) || !nameIn(c.Name, balanceWraps) {
			continue
		}
		if v, ccur, found := liftBalance(c, depth+1); found {
			if ccur == "" {
				ccur = cur
			}
			return v, ccur, true
		}
	}
	return "", "", false
}

func nameIn(name string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// parseRoubles parses an amount exactly: either decimal separator, spaces
// (also no-break ones) between digit groups dropped.
func parseRoubles(s string) (model.Money, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	return transform.GroupedMoney(s)
}

// quoteXML is an element re-encoded for an error message, cut to headLen
// bytes.
func quoteXML(e *Element) string { return head([]byte(e.XML())) }

// Balance calls check.balance and lifts the answer.
func (c *Client) Balance(ctx context.Context) (Balance, error) {
	a, err := c.call(ctx, BalanceEndpoint, BalanceScript, nil)
	if err != nil {
		return Balance{}, err // already "votbox: check.balance: …"
	}
	b, err := LiftBalance(a)
	if err != nil {
		return Balance{}, fmt.Errorf("votbox: %w", err)
	}
	return b, nil
}

// Snapshot calls check.balance once and writes one canonical balances row
// (account the user name, taken_at the run's start) on the run's day, in
// its own lake transaction (unit "balance-<run id>"), so every run keeps
// its reading and cost_reconciliation has a balance movement for VotBox.
func (s *Source) Snapshot(ctx context.Context, begin pipeline.BeginFunc, run model.Run) (model.Counts, error) {
	var n model.Counts
	if run.Location == nil {
		run.Location = time.UTC
	}
	day := run.Day()
	b, err := s.c.Balance(ctx)
	if err != nil {
		return n, err
	}
	n.Pages++
	if err := pipeline.WriteBalance(begin, "balance-"+run.ID, model.Balance{Source: Name, Date: day, Account: s.c.cfg.Username,
		Balance: b.Amount, Currency: b.Currency, Raw: b.Raw, RunID: run.ID, TakenAt: run.StartedAt.UTC()}); err != nil {
		return n, fmt.Errorf("votbox: balance: %w", err)
	}
	n.Rows++
	return n, nil
}
