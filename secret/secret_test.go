package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const pw = "hunter2-s3cr3t"

type creds struct {
	User     string
	Password Value
	token    Value // unexported: fmt cannot call its methods
}

func TestValueFormatting(t *testing.T) {
	v := New(pw)
	c := creds{User: "bob", Password: v, token: New(pw)}
	pc := &c
	for _, verb := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x", "%d", "%10.3s"} {
		for name, arg := range map[string]any{"value": v, "pointer": &v, "struct": c, "struct pointer": pc} {
			got := fmt.Sprintf(verb, arg)
			if strings.Contains(got, pw) || strings.Contains(got, fmt.Sprintf("%x", pw)) {
				t.Errorf("Sprintf(%q, %s) = %q leaks the secret", verb, name, got)
			}
			if name == "value" && !strings.Contains(got, Redacted) {
				t.Errorf("Sprintf(%q, value) = %q, want %s", verb, got, Redacted)
			}
		}
	}
	if got := fmt.Sprint(v); got != Redacted {
		t.Errorf("Sprint = %q", got)
	}
	if got := fmt.Sprintf("%+v", c); !strings.Contains(got, "Password:"+Redacted) {
		t.Errorf("%%+v of struct = %q, want Password:%s", got, Redacted)
	}
	if got := v.Reveal(); got != pw {
		t.Errorf("Reveal = %q, want %q", got, pw)
	}
}

func TestValueZero(t *testing.T) {
	var z Value
	if !z.IsZero() || z.Reveal() != "" || z.String() != Redacted {
		t.Errorf("zero Value: IsZero=%v Reveal=%q String=%q", z.IsZero(), z.Reveal(), z.String())
	}
	if !New("").IsZero() || New("x").IsZero() {
		t.Error("IsZero wrong for New")
	}
}

func TestValueJSONAndText(t *testing.T) {
	b, err := json.Marshal(creds{User: "bob", Password: New(pw)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"User":"bob","Password":"[REDACTED]"}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	// As a map key, encoding/json uses MarshalText.
	b, err = json.Marshal(map[Value]int{New(pw): 1})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), pw) || !strings.Contains(string(b), Redacted) {
		t.Errorf("json map key = %s", b)
	}
}

func TestValueSlog(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(tc.new(&buf))
			v := New(pw)
			log.Info("login", "password", v, "creds", creds{User: "bob", Password: v, token: v},
				slog.Group("g", "p", v))
			log.With("pw", v).Info("with")
			out := buf.String()
			if strings.Contains(out, pw) {
				t.Errorf("log leaks the secret:\n%s", out)
			}
			if strings.Count(out, Redacted) < 4 {
				t.Errorf("log does not show %s for every secret:\n%s", Redacted, out)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withNL := write("pw", pw+"\n")
	withCRLF := write("pw-crlf", pw+"\r\n")
	empty := write("empty", "\n")
	t.Setenv("CALLETL_TEST_PW", pw)
	t.Setenv("CALLETL_TEST_EMPTY", "")

	for _, tc := range []struct {
		name, env, file string
		wantErr         string // substring; "" = success
	}{
		{"env", "CALLETL_TEST_PW", "", ""},
		{"file", "", withNL, ""},
		{"file crlf", "", withCRLF, ""},
		{"both", "CALLETL_TEST_PW", withNL, "exactly one"},
		{"neither", "", "", "exactly one"},
		{"env unset", "CALLETL_TEST_UNSET_X", "", "CALLETL_TEST_UNSET_X is not set"},
		{"env empty", "CALLETL_TEST_EMPTY", "", "CALLETL_TEST_EMPTY is empty"},
		{"file missing", "", filepath.Join(dir, "nope"), "nope"},
		{"file empty", "", empty, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Load(tc.env, tc.file)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if v.Reveal() != pw {
					t.Fatalf("Load = %q, want %q", v.Reveal(), pw)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error %q leaks the secret", err)
			}
		})
	}
}
