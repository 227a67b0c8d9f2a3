package report

import (
	"os"
	"regexp"
	"testing"

	"github.com/calletl/calletl/queries"
)

// TestNoVotBoxBalanceMyth: VotBox documents a balance endpoint
// (check.balance.api.php, issue #15); neither the README nor a report's
// description may say it has none.
func TestNoVotBoxBalanceMyth(t *testing.T) {
	myth := regexp.MustCompile(`(?is)votbox[^.]{0,40}(has|have) no(ne| balance)`)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{"README.md": string(readme)}
	cat, err := Catalogue(queries.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cat {
		texts[r.Name+".sql"] = r.Description
	}
	for name, text := range texts {
		if m := myth.FindString(text); m != "" {
			t.Errorf("%s says VotBox has no balance endpoint: %q", name, m)
		}
	}
}
