package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/gale-stream/gale/sinks"
)

func init() {
	register(command{name: "decrypt", args: "FILE...", summary: "decrypt (and decompress) files written by an encrypting sink", run: decryptCmd})
}

func decryptCmd(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "decrypt", "FILE...", "Decrypt files that a sink wrote with encryption, decompress them (lz4), and write the records to standard output\n"+
		"(or to -o). The key is the sink's master key: a file of 32 bytes or 64 hex digits (-key-file), or hex in $"+sinks.DefaultKeyEnv+" (or the variable -key-env names).\n"+
		"Files that are not encrypted are only decompressed.")
	keyFile := fs.String("key-file", "", "the master key file")
	keyEnv := fs.String("key-env", sinks.DefaultKeyEnv, "environment variable holding the key in hex, when -key-file is not given")
	out := fs.String("o", "", "write here instead of standard output")
	pos, ok := parseArgs(fs, args, -1)
	if !ok {
		return 2
	}
	if len(pos) == 0 {
		fmt.Fprintln(env.Stderr, "gale decrypt: no file given")
		fs.Usage()
		return 2
	}
	var key []byte
	if *keyFile != "" || env.Getenv(*keyEnv) != "" {
		var err error
		if *keyFile == "" {
			key, err = sinks.ParseKey([]byte(env.Getenv(*keyEnv)), "$"+*keyEnv)
		} else {
			key, err = sinks.LoadKey(*keyFile, "")
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "gale decrypt: %v\n", err)
			return 1
		}
	}
	w := env.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(env.Stderr, "gale decrypt: %v\n", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	code := 0
	for _, p := range pos {
		data, err := os.ReadFile(p)
		if err == nil {
			data, err = sinks.Decode(key, data)
		}
		switch {
		case errors.Is(err, sinks.ErrConfig) && key == nil:
			fmt.Fprintf(env.Stderr, "gale decrypt: %s is encrypted: give the key with -key-file or $%s\n", p, *keyEnv)
			code = 1
		case err != nil:
			fmt.Fprintf(env.Stderr, "gale decrypt: %s: %v\n", p, err)
			code = 1
		default:
			if _, err := w.Write(data); err != nil {
				fmt.Fprintf(env.Stderr, "gale decrypt: %v\n", err)
				return 1
			}
		}
	}
	return code
}
