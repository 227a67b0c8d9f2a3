package mobilgroup

import (
	"errors"
	"fmt"

	"github.com/calletl/calletl/extract/httpx"
)

// Sentinels the typed errors of this package wrap; test with errors.Is.
var (
	// ErrAuth: the API key was refused (Error_Authorisation_Failed) or the
	// account is blocked (Error_User_Disabled). Never retried, and fatal for
	// the source: it is httpx.ErrAuth, so the pipeline stops the source at
	// the first.
	ErrAuth = httpx.ErrAuth
	// ErrNotFound: the broadcast id is not known (Error_ID_Not_Found).
	ErrNotFound = errors.New("broadcast not found")
	// ErrUnknownRequest: the service did not recognise the request
	// (Error_Unknown_Request).
	ErrUnknownRequest = errors.New("request not recognised")
	// ErrUnreadable: the body is not a JSON answer this package can read
	// (a proxy's HTML page, a cut body, the vendor document's own malformed
	// example). Retried, then reported with the body's first bytes.
	ErrUnreadable = errors.New("unreadable answer")
)

// Error codes the vendor document lists.
const (
	CodeAuthorisationFailed = "Error_Authorisation_Failed"
	CodeUserDisabled        = "Error_User_Disabled"
	CodeUnknownRequest      = "Error_Unknown_Request"
	CodeIDNotFound          = "Error_ID_Not_Found"
	// Send-side codes (api/send), listed so that a message is clear if one
	// ever comes back from api/get.
	CodeNoAniPhone        = "Error_No_AniPhone"
	CodeNoMessage         = "Error_No_Message"
	CodeNoSubscribers     = "Error_No_Subscribers"
	CodeNotEnoughCredits  = "Error_Not_Enough_Credits"
	CodeNotEnoughMoney    = "Error_Not_Enough_Money" // a subscriber's result in the send example
	CodeNotTTSFile        = "Error_Not_TTS_File"
	CodeNotMediaFile      = "Error_Not_Media_File"
	CodeMessageTooLong    = "Error_Message_Too_Long"
	codeUnknownRequestSet = "Unknown_Request" // api/set's spelling
)

// codeMessages are the English meanings of the documented codes.
var codeMessages = map[string]string{
	CodeAuthorisationFailed: "authorisation failed: the API key was refused (take the key from «Настройки API» of the voice broadcast system)",
	CodeUserDisabled:        "the Mobilgroup account is disabled (blocked)",
	CodeUnknownRequest:      "the request was not recognised",
	codeUnknownRequestSet:   "the request was not recognised",
	CodeIDNotFound:          "the broadcast id is not known to Mobilgroup",
	CodeNoAniPhone:          "the sender number is wrong",
	CodeNoMessage:           "the request has no message text",
	CodeNoSubscribers:       "the request has no subscriber numbers",
	CodeNotEnoughCredits:    "not enough money on the account",
	CodeNotEnoughMoney:      "not enough money on the account",
	CodeNotTTSFile:          "the voice file could not be synthesised",
	CodeNotMediaFile:        "the sound file was not found",
	CodeMessageTooLong:      "the message is longer than allowed",
}

// APIError is an answer {"result":"error","error_code":"…"}. It unwraps to
// ErrAuth, ErrNotFound or ErrUnknownRequest for those codes. It is never
// retried unless the HTTP status was 429 or 5xx.
type APIError struct {
	Code        string // as sent, e.g. "Error_ID_Not_Found"
	Description string // a "description" or "error" text the answer carried, if any
}

// Message is the English meaning of the code.
func (e *APIError) Message() string {
	if m, ok := codeMessages[e.Code]; ok {
		return m
	}
	if e.Code == "" {
		return "an error answer without error_code"
	}
	return "an error code this version does not know"
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("Mobilgroup error %s: %s", e.Code, e.Message())
	if e.Code == "" {
		s = "Mobilgroup error: " + e.Message()
	}
	if e.Description != "" {
		s += fmt.Sprintf(" (%q)", e.Description)
	}
	return s
}

// Unwrap returns the sentinel of the code's class, or nil.
func (e *APIError) Unwrap() error {
	switch e.Code {
	case CodeAuthorisationFailed, CodeUserDisabled:
		return ErrAuth
	case CodeIDNotFound:
		return ErrNotFound
	case CodeUnknownRequest, codeUnknownRequestSet:
		return ErrUnknownRequest
	}
	return nil
}

// ConfigError is a Config field that New refused.
type ConfigError struct {
	Field string // the Config field, e.g. "BroadcastIDs"
	Err   error
}

func (e *ConfigError) Error() string { return "mobilgroup: config " + e.Field + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }
