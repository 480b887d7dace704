package sinks

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/pierrec/lz4/v4"
)

// TestDecodeObject_SealedName: issue 16's finding 7 — an encrypted object
// copied over another object's name decrypted without error. Read with
// its name, it is refused.
func TestDecodeObject_SealedName(t *testing.T) {
	c := Codec{Compression: CompressionLZ4, Key: testKey()}
	a, _ := c.Encode("topo/s/0/a.jsonl.lz4.enc", []byte("records of a\n"))
	if got, err := DecodeObject(c.Key, "topo/s/0/a.jsonl.lz4.enc", a); err != nil || string(got) != "records of a\n" {
		t.Fatalf("the object under its own name: %q, %v", got, err)
	}
	if _, err := DecodeObject(c.Key, "topo/s/0/b.jsonl.lz4.enc", a); !errors.Is(err, ErrWrongName) {
		t.Fatalf("a's bytes stored as b: %v, want ErrWrongName", err)
	}
}

// sealV1 is the GALEENC1 format as Gale wrote it before 2026-12: one key
// for the cipher and the nonce, HKDF without salt.
func sealV1(master []byte, name string, plain []byte) []byte {
	key, _ := objectKeyV1(master, name)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("nonce"))
	mac.Write(plain)
	nonce := mac.Sum(nil)[:12]
	hdr := append([]byte(sealMagicV1), binary.BigEndian.AppendUint16(nil, uint16(len(name)))...)
	hdr = append(hdr, name...)
	return gcm.Seal(append(hdr, nonce...), nonce, plain, hdr)
}

// TestCodec_SubkeysAndOldObjects: the nonce no longer comes from the
// encryption key (GALEENC2), and objects written in the old format open.
func TestCodec_SubkeysAndOldObjects(t *testing.T) {
	c := Codec{Compression: CompressionNone, Key: testKey()}
	name, plain := "topo/s/0/x.jsonl.enc", []byte("one record\n")
	v2, _ := c.Encode(name, plain)
	v1 := sealV1(c.Key, name, plain)
	if !bytes.HasPrefix(v2, []byte("GALEENC2")) || bytes.Equal(v1[len(name)+10:], v2[len(name)+10:]) {
		t.Fatalf("v2 %q... is not a new format, or has v1's nonce and ciphertext", v2[:8])
	}
	for what, data := range map[string][]byte{"v1": v1, "v2": v2} {
		if got, err := DecodeObject(c.Key, name, data); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: %q, %v", what, got, err)
		}
	}
}

// TestDecode_Bomb: issue 16's finding 8 — a 2.1 MB lz4 file expanded to
// 1.28 GB in memory. Decoding stops at MaxDecodedBytes.
func TestDecode_Bomb(t *testing.T) {
	var bomb bytes.Buffer
	zw := lz4.NewWriter(&bomb)
	zeros := make([]byte, 1<<20)
	for range 512 { // 512 MiB of zeros
		zw.Write(zeros)
	}
	zw.Close()
	defer func(old int64) { MaxDecodedBytes = old }(MaxDecodedBytes)
	MaxDecodedBytes = 8 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := DecodeObject(nil, "x.lz4", bomb.Bytes())
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a %d-byte frame of 512 MiB: %v, want ErrTooLarge", bomb.Len(), err)
	}
	// the bomb is 512 MiB; refused past 8 MiB, decoding allocates a few
	// times that (buffer growth; more under -race), never the whole
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 160<<20 {
		t.Errorf("refusing the bomb allocated %d MiB", alloc>>20)
	}
	t.Logf("a %d KB frame of 512 MiB of zeros: refused past %d MiB", bomb.Len()>>10, MaxDecodedBytes>>20)
}
