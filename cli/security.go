package cli

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/gale-stream/gale/internal/atomicfile"

	"github.com/gale-stream/gale/cluster"
)

// Secrets come from a file (--NAME-file) or an environment variable,
// never from a flag's default: `--help` and usage errors print defaults,
// and a flag's value is in every user's `ps`. A flag with the secret
// itself is accepted for scripts that have nothing better.

// secret is one secret's sources.
type secret struct {
	what          string // for messages: "the API token"
	value, file   *string
	envVar, alias string // alias: an older variable, still read
}

func addSecret(fs *flag.FlagSet, name, fileFlag, envVar, what string) *secret {
	return &secret{what: what, envVar: envVar,
		value: fs.String(name, "", what+" itself (visible in `ps`: prefer --"+fileFlag+" or $"+envVar+")"),
		file:  fs.String(fileFlag, "", "file holding "+what+" (or $"+envVar+")")}
}

// get returns the secret ("" when none is given) and warns, through
// warn, about a file that other users can read.
func (s *secret) get(env *Env, warn func(string)) (string, error) {
	switch {
	case *s.value != "":
		return *s.value, nil
	case *s.file != "":
		if mode, open := atomicfile.ReadableByOthers(*s.file); open && warn != nil {
			warn(fmt.Sprintf("%s file %s is readable by other users (mode %v): chmod 600 it", s.what, *s.file, mode))
		}
		b, err := os.ReadFile(*s.file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", s.what, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%s: %s is empty", s.what, *s.file)
		}
		return v, nil
	case env.Getenv(s.envVar) != "":
		return env.Getenv(s.envVar), nil
	case s.alias != "" && env.Getenv(s.alias) != "":
		return env.Getenv(s.alias), nil
	}
	return "", nil
}

// apiSecurityFlags are the flags of a served API (gale worker, gale run --ui).
type apiSecurityFlags struct {
	token          *secret
	reads          *string
	hosts, origins *string
	insecure       *bool
}

func addAPISecurityFlags(fs *flag.FlagSet) *apiSecurityFlags {
	return &apiSecurityFlags{
		token: addSecret(fs, "auth-token", "auth-token-file", "GALE_AUTH_TOKEN",
			"the API token (it grants running commands on the workers)"),
		reads:    fs.String("reads", "auto", "whether reads (/api/, /metrics) need the token: auto (when the API listens off loopback), token or open"),
		hosts:    fs.String("allow-host", "", "NAME[,NAME...]: the Host names the API answers besides loopback's (on loopback the default is loopback's only; off loopback, any)"),
		origins:  fs.String("allow-origin", "", "ORIGIN[,ORIGIN...]: more origins (https://ops.example) allowed to make changes from a browser"),
		insecure: fs.Bool("insecure", false, "allow an API (and a cluster) reachable off loopback without a token (and a cluster key): whoever reaches it can run commands here"),
	}
}

func (f *apiSecurityFlags) get(env *Env, warn func(string)) (cluster.APISecurity, error) {
	tok, err := f.token.get(env, warn)
	if err != nil {
		return cluster.APISecurity{}, err
	}
	return cluster.APISecurity{Token: tok, Reads: *f.reads, AllowHosts: splitList(*f.hosts),
		AllowOrigins: splitList(*f.origins), Insecure: *f.insecure}, nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// clusterKey reads the cluster key given raw or as hex; nil when none.
func clusterKey(env *Env, s *secret, warn func(string)) ([]byte, error) {
	v, err := s.get(env, warn)
	if err != nil || v == "" {
		return nil, err
	}
	if k, err := hex.DecodeString(v); err == nil {
		return k, nil
	}
	return []byte(v), nil
}
