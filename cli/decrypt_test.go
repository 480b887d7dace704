package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/file"
	"github.com/gale-stream/gale/tuple"
)

func TestDecrypt(t *testing.T) {
	dir := t.TempDir()
	keyHex := strings.Repeat("5a", sinks.KeySize)
	keyFile := write(t, "key", keyHex+"\n")
	key, _ := sinks.LoadKey(keyFile, "")
	w := file.NewWriter(dir, sinks.Naming{Ext: ".jsonl.lz4.enc"}, sinks.Codec{Compression: sinks.CompressionLZ4, Key: key}, true)
	b := &sinks.Batch{Topology: "t", Meta: &tuple.BatchMeta{ID: "ev/00000/000000000001", Source: "ev", Seq: 1, Start: 10, End: 12},
		Records: []sinks.Record{{ID: "ev/0/10", Line: []byte(`{"a":1}`)}, {ID: "ev/0/11", Line: []byte(`{"a":2}`)}}}
	if _, err := w.WriteBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	names, _ := w.List(".enc")
	if len(names) != 1 {
		t.Fatalf("files: %v", names)
	}
	file := filepath.Join(dir, names[0])

	code, out, errs := runCLI(t, "decrypt", "-key-file", keyFile, file)
	if code != 0 || out != "{\"a\":1}\n{\"a\":2}\n" {
		t.Fatalf("decrypt: code %d, out %q, err %q", code, out, errs)
	}
	wrong := write(t, "wrong", strings.Repeat("00", sinks.KeySize))
	if code, _, errs := runCLI(t, "decrypt", "-key-file", wrong, file); code != 1 || !strings.Contains(errs, "wrong key") {
		t.Errorf("wrong key: code %d, %q", code, errs)
	}
	short := write(t, "short", "abcd")
	if code, _, errs := runCLI(t, "decrypt", "-key-file", short, file); code != 1 || !strings.Contains(errs, "2 bytes, want 32") {
		t.Errorf("short key: code %d, %q", code, errs)
	}
	os.Unsetenv(sinks.DefaultKeyEnv)
	if code, _, errs := runCLI(t, "decrypt", file); code != 1 || !strings.Contains(errs, "is encrypted: give the key") {
		t.Errorf("no key: code %d, %q", code, errs)
	}
	outFile := filepath.Join(dir, "plain.jsonl")
	t.Setenv(sinks.DefaultKeyEnv, keyHex)
	if code, _, errs := runCLI(t, "decrypt", "-o", outFile, file); code != 0 {
		t.Fatalf("decrypt -o with the key in the environment: %d %s", code, errs)
	}
	if got, _ := os.ReadFile(outFile); string(got) != "{\"a\":1}\n{\"a\":2}\n" {
		t.Errorf("-o wrote %q", got)
	}
}
