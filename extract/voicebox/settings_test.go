package voicebox

import (
	"testing"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/secret"
)

// A customer id is valid or not by one rule, ValidCustomer, for the
// config's validation and the client. Before, the config took any run of
// digits and the client only 1 to 18, so a 19-digit id passed `etl check`'s
// config step and failed when the client was built.
func TestCustomerOneRule(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"41", true}, {"123456789012345678", true},
		{"1234567890123456789", false}, {"", false}, {"4a", false}, {"-1", false},
	} {
		s := &Settings{BaseURL: "https://vb.example/api", ClientID: "c", ClientSecret: registry.SecretRef{Env: "X"},
			Username: "u", Password: registry.SecretRef{Env: "Y"}, Customers: []string{tc.id}}
		c := registry.NewCheck("sources.voicebox", "")
		s.Validate(c)
		_, err := New(Config{BaseURL: s.BaseURL, ClientID: "c", Username: "u", Password: secret.New("p"), Customers: []string{tc.id}}, nil)
		if configOK, clientOK := c.Err() == nil, err == nil; configOK != tc.want || clientOK != tc.want {
			t.Errorf("customer %q: config accepts %v (%v), client accepts %v (%v); want both %v", tc.id, configOK, c.Err(), clientOK, err, tc.want)
		}
	}
}
