package sinks

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/gale-stream/gale/internal/atomicfile"

	"github.com/pierrec/lz4/v4"
)

// Compressions.
const (
	CompressionLZ4  = "lz4"
	CompressionNone = "none"
)

// KeySize is the size of an encryption master key: AES-256.
const KeySize = 32

// Codec turns an object's content into the bytes stored, deterministically:
// the same content and name give the same bytes.
//
// Compression is an lz4 frame with fixed settings (4 MiB blocks, content
// checksum, one goroutine), which the lz4 command-line tool reads.
//
// Encryption (when Key is set) is AES-256-GCM with keys derived per
// object — HKDF-SHA256 of the master key, with a fixed salt, over the
// object's name: one key encrypts, another derives the nonce from the
// plaintext (HMAC-SHA256) — so a replay writes identical bytes, and two
// different plaintexts never share a (key, nonce) pair even if a changed
// pipeline rewrites an object with other content. The stored form is
//
//	"GALEENC2" | uint16 length of name | name | nonce (12) | ciphertext and tag
//
// with the header authenticated; `gale decrypt` reads it with the master
// key alone. A reader that knows the object's name (DecodeObject: verify,
// the sinks' inventories) checks it is the name sealed, so an object
// copied over another's name does not pass for it. "GALEENC1" objects
// (one key for both uses, no salt; written before 2026-12) still open.
type Codec struct {
	Compression string
	Key         []byte
}

// Ext returns the extension the codec adds, e.g. ".lz4.enc".
func (c Codec) Ext() string {
	ext := ""
	if c.Compression == CompressionLZ4 {
		ext += ".lz4"
	}
	if c.Key != nil {
		ext += ".enc"
	}
	return ext
}

// Validate checks the settings.
func (c Codec) Validate() error {
	switch c.Compression {
	case CompressionLZ4, CompressionNone:
	default:
		return fmt.Errorf("compression %q: want %q or %q: %w", c.Compression, CompressionLZ4, CompressionNone, ErrConfig)
	}
	if c.Key != nil && len(c.Key) != KeySize {
		return fmt.Errorf("encryption key of %d bytes, want %d (AES-256): %w", len(c.Key), KeySize, ErrConfig)
	}
	return nil
}

// Encode compresses and encrypts content, the object named name.
func (c Codec) Encode(name string, content []byte) ([]byte, error) {
	data := content
	if c.Compression == CompressionLZ4 {
		var buf bytes.Buffer
		zw := lz4.NewWriter(&buf)
		if err := zw.Apply(lz4.BlockSizeOption(lz4.Block4Mb), lz4.ChecksumOption(true),
			lz4.ConcurrencyOption(1), lz4.CompressionLevelOption(lz4.Fast)); err != nil {
			return nil, err
		}
		if _, err := zw.Write(content); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		data = buf.Bytes()
	}
	if c.Key != nil {
		return seal(c.Key, name, data)
	}
	return data, nil
}

const (
	sealMagic   = "GALEENC2"
	sealMagicV1 = "GALEENC1"
)

// ErrNotSealed: the data is not an encrypted Gale object.
var ErrNotSealed = errors.New("not an encrypted Gale object (no GALEENC header)")

// ErrOpen: decryption failed: wrong key, or the data was altered.
var ErrOpen = errors.New("cannot decrypt: wrong key or altered data")

// ErrWrongName: an encrypted object was sealed for another name (copied
// or renamed over this one).
var ErrWrongName = errors.New("the object was sealed under another name")

// ErrTooLarge: an object decompresses to more than MaxDecodedBytes.
var ErrTooLarge = errors.New("decompresses to more than the limit")

// MaxDecodedBytes bounds what one object may decompress to when it is read
// back whole (verify, the inventories): a 2 MB lz4 frame of zeros expands
// to over a gigabyte. `gale verify --max-object-bytes` changes it.
var MaxDecodedBytes int64 = 256 << 20

var hkdfSalt = []byte("gale sink encryption v2")

// objectKeys are the encryption and nonce keys of object name.
func objectKeys(master []byte, name string) (enc, nonce []byte, err error) {
	if enc, err = hkdf.Key(sha256.New, master, hkdfSalt, "encrypt "+name, KeySize); err != nil {
		return nil, nil, err
	}
	nonce, err = hkdf.Key(sha256.New, master, hkdfSalt, "nonce "+name, KeySize)
	return enc, nonce, err
}

// objectKeyV1 is the one key of a GALEENC1 object.
func objectKeyV1(master []byte, name string) ([]byte, error) {
	return hkdf.Key(sha256.New, master, nil, "gale-sink-v1 "+name, KeySize)
}

func seal(master []byte, name string, plain []byte) ([]byte, error) {
	if len(name) > 0xffff {
		return nil, fmt.Errorf("object name of %d bytes is too long to seal", len(name))
	}
	key, nonceKey, err := objectKeys(master, name)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, nonceKey)
	mac.Write([]byte("nonce"))
	mac.Write(plain)
	nonce := mac.Sum(nil)[:gcm.NonceSize()]

	hdr := make([]byte, 0, len(sealMagic)+2+len(name)+len(nonce))
	hdr = append(hdr, sealMagic...)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(name)))
	hdr = append(hdr, name...)
	out := append(hdr, nonce...)
	return gcm.Seal(out, nonce, plain, hdr), nil
}

// Open decrypts data sealed by Encode with master; it returns the plain
// (possibly lz4-compressed) bytes and the object name they were sealed for.
func Open(master, data []byte) (plain []byte, name string, err error) {
	v1 := bytes.HasPrefix(data, []byte(sealMagicV1))
	if !v1 && !bytes.HasPrefix(data, []byte(sealMagic)) {
		return nil, "", ErrNotSealed
	}
	if len(master) != KeySize {
		return nil, "", fmt.Errorf("master key of %d bytes, want %d: %w", len(master), KeySize, ErrConfig)
	}
	rest := data[len(sealMagic):]
	if len(rest) < 2 {
		return nil, "", fmt.Errorf("truncated header: %w", ErrOpen)
	}
	n := int(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if len(rest) < n+12 {
		return nil, "", fmt.Errorf("truncated header: %w", ErrOpen)
	}
	name = string(rest[:n])
	hdr := data[:len(sealMagic)+2+n]
	nonce := rest[n : n+12]
	var key []byte
	if v1 {
		key, err = objectKeyV1(master, name)
	} else {
		key, _, err = objectKeys(master, name)
	}
	if err != nil {
		return nil, "", err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, "", err
	}
	plain, err = gcm.Open(nil, nonce, rest[n+12:], hdr)
	if err != nil {
		return nil, "", ErrOpen
	}
	return plain, name, nil
}

// IsSealed reports whether data is an encrypted Gale object.
func IsSealed(data []byte) bool {
	return bytes.HasPrefix(data, []byte(sealMagic)) || bytes.HasPrefix(data, []byte(sealMagicV1))
}

// Decode reverses Encode whatever the codec was: it opens sealed data
// (master must then be given) and decompresses lz4 frames, up to
// MaxDecodedBytes. It does not check the name sealed: DecodeObject does.
func Decode(master, data []byte) ([]byte, error) { return DecodeObject(master, "", data) }

// DecodeObject is Decode for the object stored as name: sealed data must
// have been sealed for that name (ErrWrongName otherwise). An empty name
// checks nothing.
func DecodeObject(master []byte, name string, data []byte) ([]byte, error) {
	if IsSealed(data) {
		if master == nil {
			return nil, fmt.Errorf("the data is encrypted and no key was given: %w", ErrConfig)
		}
		plain, sealed, err := Open(master, data)
		if err != nil {
			return nil, err
		}
		if name != "" && sealed != name {
			return nil, fmt.Errorf("%w: stored as %q, sealed as %q", ErrWrongName, name, sealed)
		}
		data = plain
	}
	if IsLZ4(data) {
		var out bytes.Buffer
		if err := Decompress(&out, data, MaxDecodedBytes); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	}
	return data, nil
}

// IsLZ4 reports whether data starts with an lz4 frame's magic number.
func IsLZ4(data []byte) bool { return bytes.HasPrefix(data, []byte{0x04, 0x22, 0x4d, 0x18}) }

// Decompress writes the content of lz4 frame data to w, streaming, and
// fails with ErrTooLarge past limit bytes (limit <= 0: no limit).
func Decompress(w io.Writer, data []byte, limit int64) error {
	r := io.Reader(lz4.NewReader(bytes.NewReader(data)))
	if limit > 0 {
		r = io.LimitReader(r, limit+1)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		return fmt.Errorf("lz4: %w", err)
	}
	if limit > 0 && n > limit {
		return fmt.Errorf("lz4: %d compressed bytes %w of %d bytes", len(data), ErrTooLarge, limit)
	}
	return nil
}

// LoadKey reads a master key from a file holding 32 raw bytes or 64 hex
// digits (surrounding whitespace ignored), or, when file is "", from the
// hex in environment variable env.
func LoadKey(file, env string) ([]byte, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("encryption key: %w", err)
		}
		if mode, open := atomicfile.ReadableByOthers(file); open {
			slog.Warn("the encryption key file is readable by other users: chmod 600 it", "file", file, "mode", mode.String())
		}
		return ParseKey(b, file)
	case env != "" && os.Getenv(env) != "":
		return ParseKey([]byte(os.Getenv(env)), "$"+env)
	}
	return nil, fmt.Errorf("encryption key: give key_file, or set %s: %w", env, ErrConfig)
}

// ParseKey reads a master key from raw: 64 hex digits or 32 raw bytes.
// from names where it came from, for errors.
func ParseKey(raw []byte, from string) ([]byte, error) {
	// hex first: 32 bytes of hex text are a 16-byte key (an error), not a
	// raw key (a random raw key is all hex digits with probability 2^-64)
	s := strings.TrimSpace(string(raw))
	if k, err := hex.DecodeString(s); err == nil && s != "" {
		if len(k) != KeySize {
			return nil, fmt.Errorf("encryption key in %s: %d bytes, want %d (64 hex digits): %w", from, len(k), KeySize, ErrConfig)
		}
		return k, nil
	}
	if len(raw) == KeySize {
		return raw, nil
	}
	return nil, fmt.Errorf("encryption key in %s: %d bytes, neither %d raw bytes nor %d hex digits: %w",
		from, len(raw), KeySize, 2*KeySize, ErrConfig)
}
