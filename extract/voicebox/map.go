package voicebox

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/transform"
)

// CallRow is one row of `voicebox_calls`.
type CallRow struct {
	Date         string // partition: start day in the business zone
	Customer     string
	CallID       string
	CallIDField  string // the field the id came from, "" when hashed
	StartedAt    time.Time
	EndedAt      time.Time // zero = NULL
	Caller       string
	CallerRaw    string
	Callee       string
	CalleeRaw    string
	Direction    string // canonical
	DirectionRaw string // as sent
	DurationS    sql.Null[int32]
	TalkS        sql.Null[int32]
	Status       string
	Cost         sql.Null[model.Money]
	CostRaw      string
	Currency     string
	CampaignID   string
	CampaignName string
	Raw          string
	RunID        string
	ExtractedAt  time.Time
}

// MapContext is what mapping needs besides the row.
type MapContext struct {
	Customer    string
	Business    *time.Location // day partitions
	RunID       string
	ExtractedAt time.Time
}

// Map turns a lifted row into its canonical call and its voicebox_calls
// row. It is pure.
func Map(mc *MapContext, r *Row) (model.Call, CallRow) {
	day := model.Day(r.Start, mc.Business)
	caller, callee := transform.Phone(r.CallerRaw), transform.Phone(r.CalleeRaw)
	var end time.Time
	if !r.End.IsZero() {
		end = r.End.UTC()
	}
	c := model.Call{
		Source: Name, Date: day, Account: mc.Customer, CallID: r.ID, Direction: r.Direction,
		StartedAt: r.Start.UTC(), Caller: caller, CallerRaw: r.CallerRaw, Callee: callee, CalleeRaw: r.CalleeRaw,
		DurationS: r.DurationS, TalkS: r.TalkS, Cost: r.Cost, Currency: r.Currency, Status: r.Status,
		RunID: mc.RunID, ExtractedAt: mc.ExtractedAt,
	}
	d := CallRow{
		Date: day, Customer: mc.Customer, CallID: r.ID, CallIDField: r.IDField,
		StartedAt: r.Start.UTC(), EndedAt: end,
		Caller: caller, CallerRaw: r.CallerRaw, Callee: callee, CalleeRaw: r.CalleeRaw,
		Direction: r.Direction, DirectionRaw: r.DirectionRaw, DurationS: r.DurationS, TalkS: r.TalkS,
		Status: r.Status, Cost: r.Cost, CostRaw: r.CostRaw, Currency: r.Currency,
		CampaignID: r.CampaignID, CampaignName: r.CampaignName,
		Raw: string(r.Raw), RunID: mc.RunID, ExtractedAt: mc.ExtractedAt,
	}
	return c, d
}

// Campaign lifting: /campaigns and /callhistory/campaigns rows.
var (
	campIDNames     = []string{"id", "campaignId", "campaign.id"}
	campNameNames   = []string{"name", "campaignName", "title", "campaign.name"}
	campTypeNames   = []string{"campaignType", "type", "direction"}
	campStatusNames = []string{"status", "state", "campaignStatus"}
)

// CampaignRow is one row of `voicebox_campaigns`.
type CampaignRow struct {
	Customer     string
	CampaignID   string // lifted id, or HashID of the row
	Name         string
	CampaignType string
	Status       string
	ListedIn     string // "campaigns" or "callhistory"
	Raw          string
	RunID        string
	SnapshotAt   time.Time
}

// LiftCampaign lifts one campaign element. Only a row that is not a JSON
// object is an error; fields that are not scalars are left empty (the raw
// row keeps them).
func LiftCampaign(raw []byte) (CampaignRow, error) {
	r := CampaignRow{Raw: string(raw)}
	o, err := decodeObject(raw)
	if err != nil {
		return r, err
	}
	r.CampaignID, _, _ = o.text(campIDNames)
	r.Name, _, _ = o.text(campNameNames)
	r.CampaignType, _, _ = o.text(campTypeNames)
	r.Status, _, _ = o.text(campStatusNames)
	if r.CampaignID == "" {
		r.CampaignID = HashID(raw)
	}
	return r, nil
}

// Balance lifting.
var (
	balanceNames = []string{"balance", "amount", "value", "sum", "balanceAmount", "availableBalance", "current"}
	balanceWraps = []string{"data", "result", "balance", "account"}
)

// LiftBalance reads a balance answer: an object with the amount under
// balance/amount/value/… (a number or a string with either decimal
// separator) and an optional currency, possibly wrapped under data/result;
// or a bare number or string. raw is the amount as written (a string
// unquoted). currency is upper case, DefaultCurrency when absent.
func LiftBalance(body []byte) (amount model.Money, raw, currency string, err error) {
	amount, raw, currency, err = liftBalance(bytes.TrimSpace(body), 0)
	if err != nil {
		return 0, "", "", fmt.Errorf("balance %q: %w", head(body), err)
	}
	if currency == "" {
		currency = DefaultCurrency
	}
	return amount, raw, strings.ToUpper(currency), nil
}

func liftBalance(b []byte, depth int) (model.Money, string, string, error) {
	return liftAmount(b, "balance", balanceNames, balanceWraps, depth)
}

// liftAmount reads an amount answer: an object with the amount under one of
// names (a number or a string with either decimal separator) and an
// optional currency, possibly wrapped (two levels at most) under one of
// wraps; or a bare number or string (what names it in errors).
func liftAmount(b []byte, what string, names, wraps []string, depth int) (model.Money, string, string, error) {
	if len(b) == 0 {
		return 0, "", "", errors.New("empty answer")
	}
	if b[0] != '{' {
		s, err := scalar(field{name: what, raw: b})
		if err != nil {
			return 0, "", "", err
		}
		m, err := parseMoney(s)
		return m, s, "", err
	}
	o, err := decodeObject(b)
	if err != nil {
		return 0, "", "", errors.New("not valid JSON")
	}
	cur, _, _ := o.text(currencyNames)
	if f, ok := o.find(names); ok {
		if v := bytes.TrimSpace(f.raw); v[0] != '{' {
			s, err := scalar(f)
			if err != nil {
				return 0, "", "", err
			}
			m, err := parseMoney(s)
			if err != nil {
				return 0, "", "", fmt.Errorf("%s: %w", f.name, err)
			}
			return m, s, cur, nil
		}
	}
	if depth < 2 {
		for _, w := range wraps {
			if f, ok := o.find([]string{w}); ok {
				if v := bytes.TrimSpace(f.raw); v[0] == '{' {
					m, s, c, err := liftAmount(v, what, names, wraps, depth+1)
					if err == nil {
						if c == "" {
							c = cur
						}
						return m, s, c, nil
					}
				}
			}
		}
	}
	return 0, "", "", fmt.Errorf("no %s under %s", what, strings.Join(names, "/"))
}
