package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The Dockerfile is not built here (no image can be pulled on this
// machine); it is parsed, and what would make the image wrong is checked:
// a runtime without glibc (DuckDB is linked through cgo), cgo off, a root
// user, secrets in the build context or the image.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY, …
	args string
	line int
}

// stage is one FROM … AS name and its instructions.
type stage struct {
	image, name string
	body        []instruction
}

func parseDockerfile(text string) ([]stage, error) {
	var ins []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasPrefix(trimmed, "#") { // a comment inside a continued instruction
			continue
		}
		if s, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		ins = append(ins, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	var stages []stage
	for _, in := range ins {
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			var st stage
			for len(f) > 0 && strings.HasPrefix(f[0], "--") {
				f = f[1:]
			}
			if len(f) == 0 {
				return nil, &parseError{in.line, "FROM without an image"}
			}
			st.image = f[0]
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd == "ARG" {
				continue
			}
			return nil, &parseError{in.line, in.cmd + " before FROM"}
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	return stages, nil
}

type parseError struct {
	line int
	msg  string
}

func (e *parseError) Error() string { return "line " + strconv.Itoa(e.line) + ": " + e.msg }

// glibcImage reports whether a runtime image has glibc (and libstdc++),
// which the cgo-linked DuckDB needs.
func glibcImage(image string) bool {
	switch {
	case strings.Contains(image, "alpine"), image == "scratch",
		strings.HasPrefix(image, "gcr.io/distroless/static"):
		return false
	}
	for _, p := range []string{"debian:", "gcr.io/distroless/cc-", "gcr.io/distroless/base-", "ubuntu:"} {
		if strings.HasPrefix(image, p) {
			return true
		}
	}
	return false
}

// debianRelease returns the Debian release an image is built on.
func debianRelease(image string) string {
	for _, r := range []string{"bookworm", "trixie", "bullseye"} {
		if strings.Contains(image, r) {
			return r
		}
	}
	if strings.Contains(image, "debian12") {
		return "bookworm"
	}
	if strings.Contains(image, "debian13") {
		return "trixie"
	}
	return ""
}

var secretish = regexp.MustCompile(`(?i)(secret|password|passwd|token|credential|\.pem\b|\.key\b|\.env\b|id_rsa|etl\.yaml|/run/secrets)`)

func checkDockerfile(text string) []string {
	stages, err := parseDockerfile(text)
	if err != nil {
		return []string{err.Error()}
	}
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, sprintf(format, args...)) }
	if len(stages) < 2 {
		return []string{"want a multi-stage build: a Go builder and a small runtime"}
	}
	build, runtime := stages[0], stages[len(stages)-1]
	if build.name != "build" || runtime.name != "runtime" {
		fail("stages %q … %q: want the first named build and the last runtime", build.name, runtime.name)
	}
	if !strings.HasPrefix(build.image, "golang:") {
		fail("builder %s: want a golang image", build.image)
	}
	if strings.Contains(build.image, "alpine") {
		fail("builder %s: want a glibc (Debian) golang image, not musl", build.image)
	}
	if !glibcImage(runtime.image) {
		fail("runtime %s: want an image with glibc and libstdc++ (debian:*-slim, gcr.io/distroless/cc-*): DuckDB is linked through cgo", runtime.image)
	}
	if b, r := debianRelease(build.image), debianRelease(runtime.image); b == "" || b != r {
		fail("builder on %q, runtime on %q: want the same Debian release (the binary needs the glibc it was linked against)", b, r)
	}
	cgo := false
	for _, st := range stages {
		for _, in := range st.body {
			if strings.Contains(in.args, "CGO_ENABLED=0") {
				fail("line %d: CGO_ENABLED=0: DuckDB needs cgo", in.line)
			}
			if st.name == build.name && (in.cmd == "ENV" || in.cmd == "RUN") && strings.Contains(in.args, "CGO_ENABLED=1") {
				cgo = true
			}
			if in.cmd == "COPY" || in.cmd == "ADD" {
				if secretish.MatchString(in.args) {
					fail("line %d: %s %s: copies something that looks like a secret or a config", in.line, in.cmd, in.args)
				}
			}
			if (in.cmd == "ENV" || in.cmd == "ARG") && secretish.MatchString(strings.SplitN(in.args, "=", 2)[0]) {
				fail("line %d: %s %s: secrets are never baked into an image", in.line, in.cmd, in.args)
			}
			if in.cmd == "ADD" {
				fail("line %d: ADD: use COPY (ADD fetches URLs and unpacks archives)", in.line)
			}
		}
	}
	if !cgo {
		fail("builder: want CGO_ENABLED=1 set explicitly (DuckDB is linked through cgo)")
	}
	var user, entry string
	installs := ""
	for _, in := range runtime.body {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entry = in.args
		case "RUN":
			installs += in.args
		case "COPY":
			if !strings.Contains(in.args, "--from="+build.name) {
				fail("line %d: runtime COPY %s: want only the binary, from the build stage", in.line, in.args)
			}
		}
	}
	if !strings.HasPrefix(runtime.image, "gcr.io/distroless/") {
		for _, pkg := range []string{"ca-certificates", "tzdata"} {
			if !strings.Contains(installs, pkg) {
				fail("runtime: want %s installed (HTTPS to the vendors and S3; time zones)", pkg)
			}
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		fail("runtime USER %q: want a numeric non-root uid (runAsNonRoot can only verify a numeric one)", user)
	}
	if !regexp.MustCompile(`^\["[^"]*/?etl"`).MatchString(entry) {
		fail("ENTRYPOINT %s: want the exec form running etl", entry)
	}
	return bad
}

func sprintf(format string, args ...any) string {
	return strings.TrimSpace(strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " "))
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range checkDockerfile(string(b)) {
		t.Error(msg)
	}
	// The builder's Go is the go.mod's.
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if m == nil || !strings.Contains(string(b), "FROM golang:"+string(m[1])+"-") {
		t.Errorf("the builder image is not golang:%s-…, the go.mod's version", m[1])
	}
	// The runtime user is the pods' runAsUser.
	o := loadObjects(t)
	uid := o.cronJob.Spec.JobTemplate.Spec.Template.Spec.SecurityContext.RunAsUser
	if uid == nil || !strings.Contains(string(b), "USER "+strconv.FormatInt(*uid, 10)) {
		t.Errorf("Dockerfile USER and the pod's runAsUser %v differ", uid)
	}
}

// TestDockerfileChecks shows that checkDockerfile catches each mistake it
// looks for: every case breaks one thing in the real Dockerfile.
func TestDockerfileChecks(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	good := string(b)
	if msgs := checkDockerfile(good); len(msgs) > 0 {
		t.Fatalf("the real Dockerfile fails: %q", msgs)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"alpine runtime", "FROM debian:bookworm-slim AS runtime", "FROM alpine:3.20 AS runtime", "glibc"},
		{"static distroless", "FROM debian:bookworm-slim AS runtime", "FROM gcr.io/distroless/static-debian12 AS runtime", "glibc"},
		{"scratch", "FROM debian:bookworm-slim AS runtime", "FROM scratch AS runtime", "glibc"},
		{"newer runtime glibc mismatch", "FROM golang:1.26-bookworm AS build", "FROM golang:1.26-trixie AS build", "Debian release"},
		{"cgo off", "ENV CGO_ENABLED=1", "ENV CGO_ENABLED=0", "cgo"},
		{"root user", "USER 65532:65532", "USER root", "non-root"},
		{"no user", "USER 65532:65532\n", "", "non-root"},
		{"secret copied", "COPY --from=build /out/etl /usr/local/bin/etl", "COPY --from=build /out/etl /usr/local/bin/etl\nCOPY secrets/mtt-password /run/secrets/mtt", "secret"},
		{"config copied", "COPY . .", "COPY . .\nCOPY etl.yaml /etc/calletl/etl.yaml", "secret or a config"},
		{"secret arg", "WORKDIR /src", "WORKDIR /src\nARG MTT_PASSWORD", "never baked"},
		{"sources in runtime", "COPY --from=build /out/etl /usr/local/bin/etl", "COPY --from=build /out/etl /usr/local/bin/etl\nCOPY . /src", "only the binary"},
		{"no tzdata", "ca-certificates tzdata", "ca-certificates", "tzdata"},
		{"shell entrypoint", `ENTRYPOINT ["/usr/local/bin/etl"]`, `ENTRYPOINT /usr/local/bin/etl`, "exec form"},
		{"single stage", "FROM debian:bookworm-slim AS runtime", "", "multi-stage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.from, tc.to, 1)
			if bad == good {
				t.Fatalf("%q not in the Dockerfile", tc.from)
			}
			msgs := checkDockerfile(bad)
			if !strings.Contains(strings.Join(msgs, "\n"), tc.want) {
				t.Fatalf("got %q, want a message with %q", msgs, tc.want)
			}
		})
	}
}

// TestDockerignore: the build context leaves out what must never reach an
// image layer (the builder stage copies the whole context).
func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{".git", "demo", "etl.yaml", "*.env", "secrets"} {
		if !lines[want] {
			t.Errorf(".dockerignore: want %s excluded", want)
		}
	}
}
