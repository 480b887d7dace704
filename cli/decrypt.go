package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/gale-stream/gale/sinks"
)

func init() {
	register(command{name: "decrypt", args: "FILE...", summary: "decrypt (and decompress) files written by an encrypting sink", run: decryptCmd})
}

func decryptCmd(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "decrypt", "FILE...", "Decrypt files that a sink wrote with encryption, decompress them (lz4), and write the records to standard output\n"+
		"(or to -o). The key is the sink's master key: a file of 32 bytes or 64 hex digits (-key-file), or hex in $"+sinks.DefaultKeyEnv+" (or the variable -key-env names).\n"+
		"Files that are not encrypted are only decompressed. An encrypted file must carry the name it was sealed under\n"+
		"(a file copied over another's name is refused, unless -any-name); decompression streams, so a huge frame costs no memory.")
	keyFile := fs.String("key-file", "", "the master key file")
	keyEnv := fs.String("key-env", sinks.DefaultKeyEnv, "environment variable holding the key in hex, when -key-file is not given")
	out := fs.String("o", "", "write here instead of standard output (created with mode 0600: it holds the plaintext)")
	anyName := fs.Bool("any-name", false, "accept a file whose name is not the one it was sealed under (a renamed copy)")
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
			key, err = sinks.LoadKey(*keyFile, "") // warns when others can read the file
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "gale decrypt: %v\n", err)
			return 1
		}
	}
	w := env.Stdout
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			fmt.Fprintf(env.Stderr, "gale decrypt: %v\n", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	code := 0
	for _, p := range pos {
		if err := decryptFile(w, p, key, *anyName); err != nil {
			switch {
			case errors.Is(err, sinks.ErrConfig) && key == nil:
				fmt.Fprintf(env.Stderr, "gale decrypt: %s is encrypted: give the key with -key-file or $%s\n", p, *keyEnv)
			default:
				fmt.Fprintf(env.Stderr, "gale decrypt: %s: %v\n", p, err)
			}
			code = 1
		}
	}
	return code
}

// decryptFile writes file p's records to w: opened (with key, checking
// that p's name is the one sealed unless anyName) and decompressed as a
// stream.
func decryptFile(w io.Writer, p string, key []byte, anyName bool) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if sinks.IsSealed(data) {
		if key == nil {
			return fmt.Errorf("encrypted, no key: %w", sinks.ErrConfig)
		}
		plain, sealed, err := sinks.Open(key, data)
		if err != nil {
			return err
		}
		if base := filepath.Base(p); !anyName && base != path.Base(sealed) {
			return fmt.Errorf("%w: this file is %s, it was sealed as %s (a copy over another object's name? -any-name to read it anyway)",
				sinks.ErrWrongName, base, sealed)
		}
		data = plain
	}
	if sinks.IsLZ4(data) {
		return sinks.Decompress(w, data, 0)
	}
	_, err = w.Write(data)
	return err
}
