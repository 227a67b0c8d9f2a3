package voicebox

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/transform"
)

// The customer's numbers with their monthly fees, and the customer object
// (document sections 4.3, 4.6 and 3.2). Requests per customer and run: the
// numbers list (Range pages, plus the one request that proves a 200 was
// the whole list), ONE PRICE REQUEST PER NUMBER, and one for the customer.
// A customer has a handful of numbers, so this is cheap; it is taken with
// the campaigns and the balance in Snapshot.

// ListNumbers is the customer's numbers list (GET /customers/{id}/numbers).
const ListNumbers = "numbers"

// Field names of a numbers row (document 4.3: type, owner, number,
// regionName, regionCode, category, description, campaigns; no id).
var (
	numberIDNames     = []string{"id", "numberId"}
	numNames          = []string{"number", "phoneNumber", "phone", "msisdn"}
	numberTypeNames   = []string{"type", "numberType"}
	ownerNames        = []string{"owner"}
	regionNameNames   = []string{"regionName", "region"}
	regionCodeNames   = []string{"regionCode"}
	categoryNames     = []string{"category"}
	descriptionNames  = []string{"description"}
	numberCampNames   = []string{"campaigns"}
	priceNames        = []string{"price", "monthlyPrice", "monthlyFee", "subscriptionFee", "abonentFee", "fee", "amount", "value", "cost", "sum"}
	priceWraps        = []string{"data", "result", "price", "prices"}
	customerIDNames   = []string{"id", "customerId"}
	customerNameNames = []string{"name", "companyName"}
)

// NumberRow is one row of `voicebox_numbers`.
type NumberRow struct {
	Customer    string
	NumberID    string // the {number_id} of the price path: the row's id, else its number, else HashID
	Number      string // E.164 digits
	NumberRaw   string // number as sent
	Type        string
	Owner       string
	RegionName  string
	RegionCode  string
	Category    string
	Description string
	Campaigns   string // the campaigns array's JSON as sent ("" when absent)
	MonthlyFee  sql.Null[model.Money]
	FeeRaw      string
	Currency    string
	PriceRaw    string // the price answer as sent ("" when not fetched)
	Raw         string // the list row as sent
	RunID       string
	SnapshotAt  time.Time
	hashed      bool // NumberID is HashID of the row: no price is asked
}

// LiftNumber lifts one numbers row. Only a row that is not a JSON object
// is an error. DECISION: the document lists no id for a number, yet the
// price path takes {number_id}: it is the row's id when present, else the
// number; a row with neither keeps HashID of the row and gets no price.
func LiftNumber(raw []byte) (NumberRow, error) {
	r := NumberRow{Raw: string(raw)}
	o, err := decodeObject(raw)
	if err != nil {
		return r, err
	}
	r.NumberRaw, _, _ = o.text(numNames, numberNames...)
	r.Number = transform.Phone(r.NumberRaw)
	r.NumberID, _, _ = o.text(numberIDNames)
	if r.NumberID == "" {
		r.NumberID = r.NumberRaw
	}
	r.Type, _, _ = o.text(numberTypeNames)
	r.Owner, _, _ = o.text(ownerNames)
	r.RegionName, _, _ = o.text(regionNameNames)
	r.RegionCode, _, _ = o.text(regionCodeNames)
	r.Category, _, _ = o.text(categoryNames)
	r.Description, _, _ = o.text(descriptionNames)
	if f, ok := o.find(numberCampNames); ok {
		r.Campaigns = string(bytes.TrimSpace(f.raw))
	}
	return r, nil
}

// priceable reports whether the row's number id can go into the price
// path: it came from the row (not a hash) and is one path segment.
func (r *NumberRow) priceable() bool {
	return r.NumberID != "" && !strings.ContainsAny(r.NumberID, "/?#") && strings.TrimSpace(r.NumberID) == r.NumberID
}

// LiftPrice reads a number's price answer (document 4.6, "абонентская
// плата за пользование номером", no schema): the monthly fee under
// price/monthlyPrice/monthlyFee/subscriptionFee/abonentFee/fee/amount/
// value/cost/sum (a number or a string with either decimal separator),
// possibly wrapped under data/result/price/prices, or a bare number or
// string; currency beside it, DefaultCurrency when absent. DECISION: the
// amount is the fee for one calendar month (the document's word is the
// monthly subscription fee); a period field, if any, stays in the raw
// answer.
func LiftPrice(body []byte) (fee model.Money, raw, currency string, err error) {
	fee, raw, currency, err = liftAmount(bytes.TrimSpace(body), "price", priceNames, priceWraps, 0)
	if err != nil {
		return 0, "", "", fmt.Errorf("price %q: %w", head(body), err)
	}
	if currency == "" {
		currency = DefaultCurrency
	}
	return fee, raw, strings.ToUpper(currency), nil
}

// CustomerRow is one row of `voicebox_customers`.
type CustomerRow struct {
	Customer        string // the configured customer id
	CustomerID      string // id as the answer gives it
	Name            string
	Status          string
	Description     string
	Email           string
	Phone           string
	PersonalAccount string
	ManagerEmail    string
	Tariffication   string // tarifficationParams' JSON as sent ("" when absent)
	Raw             string // the answer without its credentials (see LiftCustomer)
	RunID           string
	SnapshotAt      time.Time
}

// LiftCustomer lifts GET /customers/{id}. The document's customer object
// carries password and passwordRL: every member whose name contains
// "password", "secret" or "token" (any case, at any depth) is dropped, and
// its value returned in secrets for the redactor, so no credential reaches
// the lake or a log. raw is the rest re-encoded (keys sorted, numbers as
// sent, no HTML escaping), not the bytes as sent. Errors never quote the
// body.
func LiftCustomer(body []byte) (r CustomerRow, secrets []string, err error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return r, nil, fmt.Errorf("customer answer is not JSON (%d bytes)", len(body))
	}
	if d.More() {
		return r, nil, fmt.Errorf("customer answer is not one JSON value (%d bytes)", len(body))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return r, nil, fmt.Errorf("customer answer is a JSON %T, want an object", v)
	}
	secrets = scrub(m, nil)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return r, secrets, fmt.Errorf("customer answer: %w", err)
	}
	r.Raw = strings.TrimSuffix(buf.String(), "\n")
	o, err := decodeObject([]byte(r.Raw))
	if err != nil {
		return r, secrets, err
	}
	r.CustomerID, _, _ = o.text(customerIDNames)
	r.Name, _, _ = o.text(customerNameNames)
	r.Status, _, _ = o.text(campStatusNames)
	r.Description, _, _ = o.text(descriptionNames)
	r.Email, _, _ = o.text([]string{"email"})
	r.Phone, _, _ = o.text([]string{"phone"})
	r.PersonalAccount, _, _ = o.text([]string{"personalAccount", "account"})
	r.ManagerEmail, _, _ = o.text([]string{"managerEmail"})
	if f, ok := o.find([]string{"tarifficationParams", "tariffication"}); ok {
		r.Tariffication = string(bytes.TrimSpace(f.raw))
	}
	return r, secrets, nil
}

// credentialName reports whether a member's name names a credential.
func credentialName(k string) bool {
	n := normName(k)
	return strings.Contains(n, "password") || strings.Contains(n, "secret") || strings.Contains(n, "token")
}

// scrub drops credential members of v at any depth and appends their
// string values to out.
func scrub(v any, out []string) []string {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if credentialName(k) {
				out = appendStrings(e, out)
				delete(x, k)
				continue
			}
			out = scrub(e, out)
		}
	case []any:
		for _, e := range x {
			out = scrub(e, out)
		}
	}
	return out
}

func appendStrings(v any, out []string) []string {
	switch x := v.(type) {
	case string:
		if x != "" {
			out = append(out, x)
		}
	case json.Number:
		out = append(out, string(x))
	case map[string]any:
		for _, e := range x {
			out = appendStrings(e, out)
		}
	case []any:
		for _, e := range x {
			out = appendStrings(e, out)
		}
	}
	return out
}

// Customer returns the body of GET /customers/{customer}. The credentials
// the answer carries are registered with the redactor before it is
// returned; a body that is not JSON is never quoted.
func (c *Client) Customer(ctx context.Context, customer string) ([]byte, error) {
	path := "/customers/" + url.PathEscape(customer)
	a, release, err := c.getHeldQuoting(ctx, "GET "+path, path, "", false)
	release()
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK && a.status != http.StatusPartialContent {
		return nil, fmt.Errorf("voicebox: GET %s: HTTP %d", path, a.status)
	}
	return a.body, nil
}

// NumberPrice returns the body of GET
// /customers/{customer}/numbers/{numberID}/price.
func (c *Client) NumberPrice(ctx context.Context, customer, numberID string) ([]byte, error) {
	path := "/customers/" + url.PathEscape(customer) + "/numbers/" + url.PathEscape(numberID) + "/price"
	a, err := c.get(ctx, "GET "+path, path, "")
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK && a.status != http.StatusPartialContent {
		return nil, fmt.Errorf("voicebox: GET %s: HTTP %d", path, a.status)
	}
	return a.body, nil
}

// snapshotNumbers reads the customer's numbers and each number's price,
// then replaces the customer's numbers file of the run's day (unit
// numbers-<customer>). A number whose price answers 404 (released between
// the list and the price) keeps a NULL fee, with a warning; any other
// failure writes nothing, so the day keeps an earlier run's snapshot.
func (s *Source) snapshotNumbers(ctx context.Context, begin pipeline.BeginFunc, run model.Run, cust, day string, now time.Time, n *model.Counts) error {
	var rows []NumberRow
	var pages int64
	seen := make(map[string]bool)
	err := s.c.List(ctx, cust, ListNumbers, func(p Page) error {
		pages++
		for _, raw := range p.Rows {
			r, _ := LiftNumber(raw) // a row that is not an object is kept, raw, under its hash
			if r.NumberID == "" {
				r.NumberID, r.hashed = HashID(raw), true
			}
			if seen[r.NumberID] {
				continue // the list shifted between pages and served it again
			}
			seen[r.NumberID] = true
			r.Customer, r.RunID, r.SnapshotAt = cust, run.ID, now
			rows = append(rows, r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("voicebox: numbers of %s: %w", cust, err)
	}
	asked, missing := 0, 0
	for i := range rows {
		r := &rows[i]
		if r.hashed || !r.priceable() {
			s.c.log.Warn("a number without a usable id: its fee stays NULL", "customer", cust, "number_id", r.NumberID)
			continue
		}
		body, err := s.c.NumberPrice(ctx, cust, r.NumberID)
		pages++
		asked++
		var se *httpx.StatusError
		if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
			s.c.log.Warn("the number has no price (HTTP 404): its fee stays NULL", "customer", cust, "number_id", r.NumberID)
			missing++
			continue
		}
		if err != nil {
			return fmt.Errorf("voicebox: price of number %s of %s: %w", r.NumberID, cust, err)
		}
		fee, raw, cur, err := LiftPrice(body)
		if err != nil {
			return fmt.Errorf("voicebox: price of number %s of %s: %w", r.NumberID, cust, err)
		}
		r.MonthlyFee = sql.Null[model.Money]{V: fee, Valid: true}
		r.FeeRaw, r.Currency, r.PriceRaw = raw, cur, string(body)
	}
	if err := pipeline.WriteSnapshot(begin, "numbers-"+cust, day, NumbersTable, rows); err != nil {
		return fmt.Errorf("voicebox: numbers of %s: %w", cust, err)
	}
	n.Pages += pages
	n.Rows += int64(len(rows))
	if asked > 0 && missing == asked {
		return unpricedError(cust, asked)
	}
	return nil
}

// unpricedError is the failure of a customer whose every priced number
// answered 404. One 404 is a number released between the list and its
// price; all of them mean the server does not know the ids calletl sends
// (the document types {number_id} as an integer id, but its numbers list
// has no id field, so a row without "id" is priced by its number). The
// snapshot is written first, so only the fees are missing.
func unpricedError(cust string, asked int) error {
	return fmt.Errorf("voicebox: customer %s: all %d numbers answered HTTP 404 to GET /customers/{id}/numbers/{number_id}/price: "+
		"voicebox_numbers has them with NULL monthly_fee, so cost_reconciliation shows no VoiceBox number fees. "+
		"calletl sends the list row's id as number_id, else the number itself; this server knows neither. "+
		"Ask one number's price by hand (with the number, and with any id the numbers list shows) and report "+
		"which id the server takes to the calletl maintainers; until then this error repeats every run, "+
		"other streams unaffected", cust, asked)
}

// snapshotCustomer reads GET /customers/{id} and replaces the customer's
// voicebox_customers row of the run's day (unit customer-<customer>).
func (s *Source) snapshotCustomer(ctx context.Context, begin pipeline.BeginFunc, run model.Run, cust, day string, now time.Time, n *model.Counts) error {
	body, err := s.c.Customer(ctx, cust)
	if err != nil {
		return fmt.Errorf("voicebox: customer %s: %w", cust, err)
	}
	r, secrets, err := LiftCustomer(body)
	s.c.red.Add(secrets...)
	if err != nil {
		return fmt.Errorf("voicebox: customer %s: %w", cust, err)
	}
	r.Customer, r.RunID, r.SnapshotAt = cust, run.ID, now
	if err := pipeline.WriteSnapshot(begin, "customer-"+cust, day, CustomersTable, []CustomerRow{r}); err != nil {
		return fmt.Errorf("voicebox: customer %s: %w", cust, err)
	}
	n.Pages++
	n.Rows++
	return nil
}
