package mtt

import (
	"database/sql"

	"github.com/calletl/calletl/extract/jsonscan"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/transform"
)

// scanBalance reads the result of getCustomerBalance, {balance,
// real_balance, pending_payment}: every documented field as text, and the
// result's JSON as sent. Unknown members stay in Raw only.
func scanBalance(s *jsonscan.Scanner) (Balance, error) {
	var b Balance
	s.Peek() // skips leading whitespace, so Raw starts at the object
	start := s.Pos()
	err := s.Object(func(key []byte) error {
		kind, raw, err := s.Value()
		if err != nil {
			return err
		}
		text, ok, err := jsonscan.Text(kind, raw)
		if err != nil {
			return err
		}
		if !ok { // an object or array: kept as its JSON
			text = string(raw)
		}
		switch string(key) {
		case "balance":
			b.Balance = text
		case "real_balance":
			b.RealBalance = text
		case "pending_payment":
			b.PendingPayment = text
		}
		return nil
	})
	if err != nil {
		return Balance{}, err
	}
	b.Raw = string(s.Bytes()[start:s.Pos()])
	return b, nil
}

// DecodeBalance decodes a whole getCustomerBalance answer: the balance or
// the JSON-RPC error.
func DecodeBalance(body []byte) (Balance, error) {
	var b Balance
	err := envelope(body, func(s *jsonscan.Scanner) error {
		var err error
		b, err = scanBalance(s)
		return err
	})
	return b, err
}

// pendingPayment parses pending_payment as an amount. The document names
// the field but gives it no type, so a value that is not an amount (a
// text, an object) does not fail the snapshot: it is NULL, with a warning,
// and mtt_balances.raw keeps it.
func (s *Source) pendingPayment(cust, text string) sql.Null[model.Money] {
	if text == "" {
		return sql.Null[model.Money]{}
	}
	m, err := transform.Money(text)
	if err != nil {
		s.c.log.Warn("pending_payment is not an amount: stored NULL, kept in mtt_balances.raw",
			"source", Name, "customer", cust, "err", err)
		return sql.Null[model.Money]{}
	}
	return sql.Null[model.Money]{V: m, Valid: true}
}
