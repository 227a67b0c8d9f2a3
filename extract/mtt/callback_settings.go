package mtt

import (
	"github.com/calletl/calletl/extract/itemids"
	"github.com/calletl/calletl/extract/registry"
)

// Recording formats (sources.mtt.recording_format).
const (
	FormatWAV = "wav" // GET /v1/records/<id>/urls (the default)
	FormatMP3 = "mp3" // GET /v2/records/<id>/urls?format=mp3
)

// CallbackSettings are the callback and recording-format keys of
// sources.mtt (inline in Settings).
type CallbackSettings struct {
	// CallbackCustomer is the customer_name getCallBackFollowmeCallInfo
	// is asked with; default: the only entry of customers.
	CallbackCustomer string   `yaml:"callback_customer"`
	CallbackIDs      []string `yaml:"callback_ids"`
	CallbackIDsFile  string   `yaml:"callback_ids_file"`
	// RecordingFormat: wav (default) or mp3.
	RecordingFormat string `yaml:"recording_format"`
}

// validate checks the callback keys; customers are the configured ones.
func (s *CallbackSettings) validate(c *registry.Check, customers []string) {
	c.Each("callback_ids", s.CallbackIDs, itemids.Valid, "want the callBackCall_id makeCallBackCallFollowme returned (letters, digits, . _ -)")
	c.NoDuplicates("callback_ids", s.CallbackIDs)
	if len(s.CallbackIDs) > 0 || s.CallbackIDsFile != "" {
		switch {
		case s.CallbackCustomer == "" && len(customers) == 1:
			s.CallbackCustomer = customers[0]
		case s.CallbackCustomer == "":
			c.Bad("callback_customer", "required with callback_ids or callback_ids_file when several customers are configured: "+
				"the customer_name the callbacks were placed with")
		case !ValidCustomer(s.CallbackCustomer):
			c.Bad("callback_customer", "%q is not a customer name", s.CallbackCustomer)
		}
	}
	switch s.RecordingFormat {
	case "":
		s.RecordingFormat = FormatWAV
	case FormatWAV, FormatMP3:
	default:
		c.Bad("recording_format", "%q: want wav (the default) or mp3", s.RecordingFormat)
	}
}

// config returns the client's callback config, the ids file resolved
// against the config's directory.
func (s *CallbackSettings) config(env registry.Env) CallbackConfig {
	cc := CallbackConfig{Customer: s.CallbackCustomer, IDs: s.CallbackIDs}
	if s.CallbackIDsFile != "" {
		cc.IDsFile = env.Path(s.CallbackIDsFile)
	}
	return cc
}

// ItemKind implements registry.ItemKinded: callback calls are items.
func (s *Settings) ItemKind() string { return CallbackKind }
