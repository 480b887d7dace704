package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// No Docker engine runs here, so the Dockerfiles are parsed (a small
// parser: comments, line continuations, stages, exec-form JSON) and their
// invariants checked against the gale they build.

type instruction struct {
	cmd  string // upper case
	args string // the rest, continuations joined
	line int
}

type stage struct {
	from, name   string
	instructions []instruction
}

type dockerfile struct {
	args   []instruction // ARGs before the first FROM
	stages []stage
}

func parseDockerfile(file string) (*dockerfile, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	df := &dockerfile{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		for strings.HasSuffix(l, `\`) && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(lines[i])
			if strings.HasPrefix(next, "#") {
				continue // a comment inside a continued instruction
			}
			l = strings.TrimSuffix(l, `\`) + " " + next
		}
		cmd, args, _ := strings.Cut(l, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			} else if len(f) != 1 {
				return nil, fmt.Errorf("%s:%d: FROM %s", file, start, in.args)
			}
			df.stages = append(df.stages, st)
		case len(df.stages) == 0 && in.cmd == "ARG":
			df.args = append(df.args, in)
		case len(df.stages) == 0:
			return nil, fmt.Errorf("%s:%d: %s before FROM", file, start, in.cmd)
		default:
			st := &df.stages[len(df.stages)-1]
			st.instructions = append(st.instructions, in)
		}
	}
	if len(df.stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM", file)
	}
	return df, nil
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instructions {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// last is the stage's last instruction cmd (nil: none).
func (s stage) last(cmd string) *instruction {
	all := s.all(cmd)
	if len(all) == 0 {
		return nil
	}
	return &all[len(all)-1]
}

// makeTags are the build tags of the Makefile's cgo build (TAGS ?= ...).
func makeTags(t *testing.T) string {
	b, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TAGS\s*\?=\s*(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("Makefile: no TAGS ?= line")
	}
	return string(m[1])
}

func TestDockerfiles(t *testing.T) {
	fl := workerFlags(t)
	p := workerPorts(t, nil) // the defaults
	wantExpose := []string{fmt.Sprintf("%d/tcp", p.gossip), fmt.Sprintf("%d/udp", p.gossip),
		fmt.Sprintf("%d/tcp", p.transport), fmt.Sprintf("%d/tcp", p.http)}
	slices.Sort(wantExpose)
	for _, c := range []struct {
		file string
		cgo  string // CGO_ENABLED of the build
		tags string // -tags of the build ("" none)
	}{
		{"docker/Dockerfile", "0", ""},
		{"docker/Dockerfile.ceph", "1", makeTags(t)},
	} {
		t.Run(c.file, func(t *testing.T) {
			df, err := parseDockerfile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(df.stages) < 2 {
				t.Fatalf("%d stages; want a build stage and a final one", len(df.stages))
			}
			final := df.stages[len(df.stages)-1]

			// the build: static (or cgo with the Makefile's tags), versioned
			build, err := dockerBuildCommand(c.file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(build, "CGO_ENABLED="+c.cgo+" ") {
				t.Errorf("build %q: want CGO_ENABLED=%s", build, c.cgo)
			}
			if c.tags != "" && !strings.Contains(build, "-tags "+c.tags+" ") {
				t.Errorf("build %q: want -tags %s (the Makefile's TAGS)", build, c.tags)
			}
			if !strings.Contains(build, "-X github.com/gale-stream/gale/cli.Version=${VERSION}") || !strings.Contains(build, "./cmd/gale") {
				t.Errorf("build %q: want ./cmd/gale with -X github.com/gale-stream/gale/cli.Version=${VERSION}", build)
			}
			outBin := regexp.MustCompile(`-o (\S+)`).FindStringSubmatch(build)
			if outBin == nil {
				t.Fatalf("build %q: no -o", build)
			}

			// the final stage: non-root by number, the binary copied from
			// the build stage where ENTRYPOINT runs it
			user := final.last("USER")
			if user == nil {
				t.Fatal("the final stage has no USER: it would run as root")
			}
			uid, gid, _ := strings.Cut(user.args, ":")
			if n, err := strconv.Atoi(uid); err != nil || n == 0 {
				t.Errorf("USER %s: want a numeric non-root UID (Kubernetes' runAsNonRoot checks numbers)", user.args)
			}
			if gid != "" {
				if n, err := strconv.Atoi(gid); err != nil || n == 0 {
					t.Errorf("USER %s: want a numeric non-root GID", user.args)
				}
			}
			ep := final.last("ENTRYPOINT")
			if ep == nil {
				t.Fatal("no ENTRYPOINT")
			}
			var entry []string
			if err := json.Unmarshal([]byte(ep.args), &entry); err != nil || len(entry) == 0 {
				t.Fatalf("ENTRYPOINT %s: want the exec form (a JSON list): signals reach gale, not a shell", ep.args)
			}
			var copied bool
			for _, cp := range final.all("COPY") {
				f := strings.Fields(cp.args)
				if len(f) >= 3 && f[0] == "--from="+df.stages[0].name && f[len(f)-2] == outBin[1] && f[len(f)-1] == entry[0] {
					copied = true
				}
			}
			if !copied {
				t.Errorf("no COPY --from=%s %s %s: ENTRYPOINT %s runs no built gale", df.stages[0].name, outBin[1], entry[0], entry[0])
			}

			// EXPOSE: the ports of gale worker's defaults
			var expose []string
			for _, in := range final.all("EXPOSE") {
				expose = append(expose, strings.Fields(in.args)...)
			}
			slices.Sort(expose)
			if !slices.Equal(expose, wantExpose) {
				t.Errorf("EXPOSE %v; want %v (gale worker --bind %s, transport +1, --http %s)", expose, wantExpose, fl["bind"].def, fl["http"].def)
			}
		})
	}
}
