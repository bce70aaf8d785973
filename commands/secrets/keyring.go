// Package secrets seals connection credentials with AES-256-GCM before they
// enter any event or row, under named keys so keys can be rotated: the first
// key of the keyring seals, every key opens.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"backupd/domain"
)

const (
	keySize   = 32 // AES-256
	nonceSize = 12 // GCM's standard nonce
)

var (
	// ErrUnknownKey: the secret was sealed with a key id the keyring does not
	// hold (a key was removed from the configuration too early).
	ErrUnknownKey = errors.New("secrets: sealed with a key that is not in the keyring")
	// ErrCannotOpen: the ciphertext does not authenticate (tampered data, or
	// a different key under the same id).
	ErrCannotOpen = errors.New("secrets: the secret cannot be decrypted: wrong key or damaged data")
	// ErrBadSpec: the keyring specification is malformed.
	ErrBadSpec = errors.New("secrets: invalid keyring")
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Keyring holds the keys secrets are sealed and opened with. It is safe for
// concurrent use. Printing it never shows key material.
type Keyring struct {
	active string
	aeads  map[string]cipher.AEAD
	order  []string
}

// ParseKeyring reads "kid:base64key[,kid:base64key...]": 32-byte keys in
// standard or URL-safe base64, padded or not. The first key is the active
// one (it seals); all of them open. Errors name the entry and the key id,
// never the key.
func ParseKeyring(spec string) (*Keyring, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("%w: no key given; expected kid:base64key[,kid:base64key...] (generate one with GenerateKeySpec)", ErrBadSpec)
	}
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		kid, encoded, ok := strings.Cut(entry, ":")
		kid = strings.TrimSpace(kid)
		if !ok || kid == "" {
			return nil, fmt.Errorf("%w: entry %d is not of the form kid:base64key", ErrBadSpec, i+1)
		}
		if !keyIDPattern.MatchString(kid) {
			return nil, fmt.Errorf("%w: entry %d: the key id may have 1 to 64 letters, digits, dots, dashes and underscores", ErrBadSpec, i+1)
		}
		if _, dup := k.aeads[kid]; dup {
			return nil, fmt.Errorf("%w: key id %q appears twice", ErrBadSpec, kid)
		}
		key, err := decodeKey(strings.TrimSpace(encoded))
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %s", ErrBadSpec, kid, err.Error())
		}
		aead, err := newAEAD(key)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %s", ErrBadSpec, kid, err.Error())
		}
		k.aeads[kid] = aead
		k.order = append(k.order, kid)
	}
	k.active = k.order[0]
	return k, nil
}

// decodeKey accepts the four base64 alphabets/paddings; its errors never
// quote the input.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("the key is empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != keySize {
				return nil, fmt.Errorf("the key must be %d bytes, it is %d", keySize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("the key is not valid base64")
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// GenerateKeySpec returns a fresh "kid:base64key" entry for the
// configuration (a first run, or a rotation: put it first).
func GenerateKeySpec(kid string) string {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		panic("secrets: no randomness: " + err.Error())
	}
	return kid + ":" + base64.StdEncoding.EncodeToString(key)
}

// ActiveKeyID is the id of the key that seals.
func (k *Keyring) ActiveKeyID() string { return k.active }

// KeyIDs lists the key ids, active first.
func (k *Keyring) KeyIDs() []string { return append([]string(nil), k.order...) }

// Seal encrypts plaintext with the active key, a random nonce and the key id
// as additional data (so a ciphertext relabelled with another id fails).
func (k *Keyring) Seal(plaintext []byte) (domain.SealedSecret, error) {
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return domain.SealedSecret{}, fmt.Errorf("secrets: nonce: %w", err)
	}
	ct := k.aeads[k.active].Seal(nil, nonce, plaintext, []byte(k.active))
	return domain.SealedSecret{KeyID: k.active, Nonce: nonce, Ciphertext: ct}, nil
}

// Open decrypts a sealed secret with the key it names.
func (k *Keyring) Open(s domain.SealedSecret) ([]byte, error) {
	aead, ok := k.aeads[s.KeyID]
	if !ok {
		return nil, fmt.Errorf("%w (key id %q)", ErrUnknownKey, s.KeyID)
	}
	if len(s.Nonce) != nonceSize || len(s.Ciphertext) < aead.Overhead() {
		return nil, ErrCannotOpen
	}
	pt, err := aead.Open(nil, s.Nonce, s.Ciphertext, []byte(s.KeyID))
	if err != nil {
		return nil, ErrCannotOpen
	}
	return pt, nil
}

// SealString seals a string.
func (k *Keyring) SealString(plaintext string) (domain.SealedSecret, error) {
	return k.Seal([]byte(plaintext))
}

// OpenString opens a secret sealed by SealString.
func (k *Keyring) OpenString(s domain.SealedSecret) (string, error) {
	b, err := k.Open(s)
	return string(b), err
}

// SealMap seals every non-empty value; empty values are left out (a blank
// form field means "no value" or "keep the stored one").
func (k *Keyring) SealMap(plain map[string]string) (map[string]domain.SealedSecret, error) {
	out := make(map[string]domain.SealedSecret, len(plain))
	for name, v := range plain {
		if v == "" {
			continue
		}
		s, err := k.SealString(v)
		if err != nil {
			return nil, fmt.Errorf("seal %s: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
}

// OpenMap opens every sealed value; zero (unset) secrets are left out.
// Errors name the field, never its value.
func (k *Keyring) OpenMap(sealed map[string]domain.SealedSecret) (map[string]string, error) {
	out := make(map[string]string, len(sealed))
	for name, s := range sealed {
		if s.IsZero() {
			continue
		}
		v, err := k.OpenString(s)
		if err != nil {
			return nil, fmt.Errorf("open secret %s: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

// NeedsReseal reports whether s was sealed with a key other than the active
// one (it should be sealed again during a rotation).
func (k *Keyring) NeedsReseal(s domain.SealedSecret) bool {
	return !s.IsZero() && s.KeyID != k.active
}

// String, GoString and Format keep key material out of logs and dumps.
func (k *Keyring) String() string {
	return fmt.Sprintf("secrets.Keyring{active: %q, keys: %q}", k.active, k.order)
}

func (k *Keyring) GoString() string { return k.String() }

// Format covers every verb (%v, %+v, %#v, %s), so no formatting path walks
// the struct's fields.
func (k *Keyring) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }
