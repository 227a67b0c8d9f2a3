// Package mtt extracts call history, accounts and balances from the MTT
// Telecom API (JSON-RPC 2.0 over HTTPS POST with Basic auth). The vendor's
// wire format, its date formats and its errors-inside-HTTP-200 live here and
// nowhere else; Map turns a wire row into the canonical model.Call.
package mtt

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/jsonscan"
)

// JSON-RPC error codes the MTT API documents.
const (
	codeInvalidParams    = -32602
	codeDataNotFound     = -32001
	codePermissionDenied = -32002
)

// Sentinel errors for the documented JSON-RPC error codes.
var (
	// ErrNoData is -32001 "Data not found". The API answers it both for an
	// empty selection and for an account that does not exist.
	ErrNoData = fmt.Errorf("data not found (-32001): %w", httpx.ErrNoData)
	// ErrPermission is -32002: the agent has no access to the account.
	ErrPermission = errors.New("permission denied (-32002)")
	// ErrInvalidParams is -32602: bad dates or an unknown parameter.
	ErrInvalidParams = errors.New("invalid params (-32602)")
)

// RPCError is an error answer of the API.
type RPCError struct {
	Code    int
	Message string
	Data    string
}

func (e *RPCError) Error() string {
	s := fmt.Sprintf("JSON-RPC error %d %q", e.Code, e.Message)
	if e.Data != "" {
		s += fmt.Sprintf(" (%s)", e.Data)
	}
	return s
}

// Unwrap maps documented codes to the sentinels above.
func (e *RPCError) Unwrap() error {
	switch e.Code {
	case codeDataNotFound:
		return ErrNoData
	case codePermissionDenied:
		return ErrPermission
	case codeInvalidParams:
		return ErrInvalidParams
	}
	return nil
}

// envelope scans a JSON-RPC answer and calls onResult with the scanner
// positioned at the value of "result". An "error" member becomes *RPCError.
func envelope(body []byte, onResult func(s *jsonscan.Scanner) error) error {
	s := jsonscan.New(body)
	var rpcErr *RPCError
	sawResult := false
	err := s.Object(func(key []byte) error {
		switch string(key) {
		case "result":
			sawResult = true
			return onResult(s)
		case "error":
			rpcErr = &RPCError{}
			return s.Object(func(k []byte) error {
				kind, raw, err := s.Value()
				if err != nil {
					return err
				}
				text, _, err := jsonscan.Text(kind, raw)
				if err != nil {
					return err
				}
				switch string(k) {
				case "code":
					rpcErr.Code, _ = strconv.Atoi(text)
				case "message":
					rpcErr.Message = text
				case "data":
					if kind == jsonscan.Object || kind == jsonscan.Array {
						text = string(raw)
					}
					rpcErr.Data = text
				}
				return nil
			})
		}
		return s.Skip()
	})
	if err == nil {
		err = s.End()
	}
	if err != nil {
		return fmt.Errorf("malformed JSON-RPC answer (%d bytes, starts %q): %w", len(body), head(body), err)
	}
	if rpcErr != nil {
		return rpcErr
	}
	if !sawResult {
		return fmt.Errorf("JSON-RPC answer has neither result nor error (starts %q)", head(body))
	}
	return nil
}

// head returns the first bytes of a body for error messages.
func head(b []byte) string {
	const n = 120
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
