package votbox

import (
	"strings"
	"testing"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/secret"
)

// A task id is valid or not by one rule, ValidTaskID, whoever asks: the
// config's validation (sources.votbox.task_ids) and the client. Before,
// the config wanted digits only while the client took any item key, so
// "task-7" (Text, per the vendor document) was refused by etl.yaml but
// accepted by the client.
func TestTaskIDOneRule(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"4654", true}, {"task-7", true}, {"A.b_c", true},
		{"", false}, {"a b", false}, {"../x", false}, {"ид", false}, {"7;", false},
	} {
		if got := ValidTaskID(tc.id); got != tc.want {
			t.Errorf("ValidTaskID(%q) = %v, want %v", tc.id, got, tc.want)
		}
		s := &Settings{Username: "u", Password: registry.SecretRef{Env: "X"}, TaskIDs: []string{tc.id}}
		c := registry.NewCheck("sources.votbox", "")
		s.Validate(c)
		configOK := c.Err() == nil
		_, err := New(Config{Username: "u", Password: secret.New("p"), TaskIDs: []string{tc.id}}, nil)
		clientOK := err == nil
		if configOK != tc.want || clientOK != tc.want {
			t.Errorf("task id %q: config accepts %v (%v), client accepts %v (%v); want both %v", tc.id, configOK, c.Err(), clientOK, err, tc.want)
		}
		if !configOK && !strings.Contains(c.Err().Error(), "sources.votbox.task_ids[0]: ") {
			t.Errorf("task id %q: the error does not name the field: %v", tc.id, c.Err())
		}
	}
}
