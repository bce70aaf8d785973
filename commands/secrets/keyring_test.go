package secrets_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"backupd/commands/secrets"
	"backupd/domain"

	"github.com/stretchr/testify/require"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestParseKeyring(t *testing.T) {
	t.Parallel()
	k32 := key(7)
	tests := []struct {
		name    string
		spec    string
		active  string
		ids     []string
		wantErr string
	}{
		{name: "std base64", spec: "k1:" + base64.StdEncoding.EncodeToString(k32), active: "k1", ids: []string{"k1"}},
		{name: "raw std base64", spec: "k1:" + base64.RawStdEncoding.EncodeToString(k32), active: "k1", ids: []string{"k1"}},
		{name: "url base64", spec: "k1:" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), active: "k1", ids: []string{"k1"}},
		{name: "raw url base64", spec: "k1:" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)), active: "k1", ids: []string{"k1"}},
		{name: "several, first active, spaces", spec: " new:" + base64.StdEncoding.EncodeToString(key(1)) + " , old:" + base64.StdEncoding.EncodeToString(key(2)), active: "new", ids: []string{"new", "old"}},
		{name: "empty", spec: "  ", wantErr: "no key given"},
		{name: "no colon", spec: base64.StdEncoding.EncodeToString(k32), wantErr: "entry 1 is not of the form"},
		{name: "empty kid", spec: ":" + base64.StdEncoding.EncodeToString(k32), wantErr: "entry 1 is not of the form"},
		{name: "bad kid", spec: "a b:" + base64.StdEncoding.EncodeToString(k32), wantErr: "entry 1: the key id"},
		{name: "short key", spec: "k1:" + base64.StdEncoding.EncodeToString(k32[:16]), wantErr: `key "k1": the key must be 32 bytes, it is 16`},
		{name: "not base64", spec: "k1:this-is-not*base64!", wantErr: `key "k1": the key is not valid base64`},
		{name: "empty key", spec: "k1:", wantErr: `key "k1": the key is empty`},
		{name: "duplicate kid", spec: "k1:" + base64.StdEncoding.EncodeToString(k32) + ",k1:" + base64.StdEncoding.EncodeToString(key(3)), wantErr: `key id "k1" appears twice`},
		{name: "second entry bad", spec: "k1:" + base64.StdEncoding.EncodeToString(k32) + ",k2", wantErr: "entry 2 is not of the form"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kr, err := secrets.ParseKeyring(tc.spec)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, secrets.ErrBadSpec)
				require.ErrorContains(t, err, tc.wantErr)
				// The error never echoes key material.
				for _, part := range strings.Split(tc.spec, ",") {
					if _, enc, ok := strings.Cut(part, ":"); ok && len(strings.TrimSpace(enc)) > 8 {
						require.NotContains(t, err.Error(), strings.TrimSpace(enc))
					}
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.active, kr.ActiveKeyID())
			require.Equal(t, tc.ids, kr.KeyIDs())
		})
	}
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	kr, err := secrets.ParseKeyring(secrets.GenerateKeySpec("k1"))
	require.NoError(t, err)

	plain := []byte("s3cret-value")
	a, err := kr.Seal(plain)
	require.NoError(t, err)
	b, err := kr.Seal(plain)
	require.NoError(t, err)
	require.Equal(t, "k1", a.KeyID)
	require.Len(t, a.Nonce, 12)
	require.NotEqual(t, a.Nonce, b.Nonce, "every seal draws a fresh nonce")
	require.NotEqual(t, a.Ciphertext, b.Ciphertext)
	require.False(t, bytes.Contains(a.Ciphertext, plain))

	got, err := kr.Open(a)
	require.NoError(t, err)
	require.Equal(t, plain, got)

	empty, err := kr.Seal(nil)
	require.NoError(t, err)
	got, err = kr.Open(empty)
	require.NoError(t, err)
	require.Empty(t, got)

	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 0x01; return c }
	tampered := []struct {
		name string
		s    domain.SealedSecret
		want error
	}{
		{"flipped ciphertext byte", domain.SealedSecret{KeyID: a.KeyID, Nonce: a.Nonce, Ciphertext: flip(a.Ciphertext, 0)}, secrets.ErrCannotOpen},
		{"flipped tag byte", domain.SealedSecret{KeyID: a.KeyID, Nonce: a.Nonce, Ciphertext: flip(a.Ciphertext, len(a.Ciphertext)-1)}, secrets.ErrCannotOpen},
		{"flipped nonce byte", domain.SealedSecret{KeyID: a.KeyID, Nonce: flip(a.Nonce, 3), Ciphertext: a.Ciphertext}, secrets.ErrCannotOpen},
		{"short nonce", domain.SealedSecret{KeyID: a.KeyID, Nonce: a.Nonce[:8], Ciphertext: a.Ciphertext}, secrets.ErrCannotOpen},
		{"truncated", domain.SealedSecret{KeyID: a.KeyID, Nonce: a.Nonce, Ciphertext: a.Ciphertext[:5]}, secrets.ErrCannotOpen},
		{"swapped ciphertexts", domain.SealedSecret{KeyID: a.KeyID, Nonce: a.Nonce, Ciphertext: b.Ciphertext}, secrets.ErrCannotOpen},
		{"unknown kid", domain.SealedSecret{KeyID: "k9", Nonce: a.Nonce, Ciphertext: a.Ciphertext}, secrets.ErrUnknownKey},
	}
	for _, tc := range tampered {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kr.Open(tc.s)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	oldSpec := "old:" + base64.StdEncoding.EncodeToString(key(1))
	newSpec := "new:" + base64.StdEncoding.EncodeToString(key(2))
	before, err := secrets.ParseKeyring(oldSpec)
	require.NoError(t, err)
	sealedOld, err := before.SealString("token")
	require.NoError(t, err)
	require.False(t, before.NeedsReseal(sealedOld))

	after, err := secrets.ParseKeyring(newSpec + "," + oldSpec)
	require.NoError(t, err)
	got, err := after.OpenString(sealedOld)
	require.NoError(t, err, "old keys still open")
	require.Equal(t, "token", got)
	require.True(t, after.NeedsReseal(sealedOld))
	require.False(t, after.NeedsReseal(domain.SealedSecret{}), "an unset secret needs nothing")

	sealedNew, err := after.SealString("token")
	require.NoError(t, err)
	require.Equal(t, "new", sealedNew.KeyID, "the first key seals")
	require.False(t, after.NeedsReseal(sealedNew))

	// The old keyring alone cannot open what the new key sealed.
	_, err = before.Open(sealedNew)
	require.ErrorIs(t, err, secrets.ErrUnknownKey)
	require.ErrorContains(t, err, `"new"`)

	// A different key under the same id is detected, not mis-decrypted.
	impostor, err := secrets.ParseKeyring("old:" + base64.StdEncoding.EncodeToString(key(3)))
	require.NoError(t, err)
	_, err = impostor.Open(sealedOld)
	require.ErrorIs(t, err, secrets.ErrCannotOpen)

	// Relabelling a ciphertext with another known key id fails (the id is
	// authenticated as additional data).
	both, err := secrets.ParseKeyring(oldSpec + ",other:" + base64.StdEncoding.EncodeToString(key(1)))
	require.NoError(t, err)
	relabelled := sealedOld
	relabelled.KeyID = "other"
	_, err = both.Open(relabelled)
	require.ErrorIs(t, err, secrets.ErrCannotOpen)
}

func TestSealMapOpenMap(t *testing.T) {
	t.Parallel()
	kr, err := secrets.ParseKeyring(secrets.GenerateKeySpec("k1"))
	require.NoError(t, err)
	sealed, err := kr.SealMap(map[string]string{"secret_access_key": "abc", "password": ""})
	require.NoError(t, err)
	require.Len(t, sealed, 1, "empty values are skipped")
	require.Contains(t, sealed, "secret_access_key")

	opened, err := kr.OpenMap(sealed)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"secret_access_key": "abc"}, opened)

	sealed["uri"] = domain.SealedSecret{KeyID: "gone", Nonce: make([]byte, 12), Ciphertext: make([]byte, 32)}
	_, err = kr.OpenMap(sealed)
	require.ErrorIs(t, err, secrets.ErrUnknownKey)
	require.ErrorContains(t, err, "uri")
}

func TestGenerateKeySpecAndNoLeak(t *testing.T) {
	t.Parallel()
	spec := secrets.GenerateKeySpec("2026-01")
	kid, enc, ok := strings.Cut(spec, ":")
	require.True(t, ok)
	require.Equal(t, "2026-01", kid)
	raw, err := base64.StdEncoding.DecodeString(enc)
	require.NoError(t, err)
	require.Len(t, raw, 32)
	require.NotEqual(t, spec, secrets.GenerateKeySpec("2026-01"))

	kr, err := secrets.ParseKeyring(spec)
	require.NoError(t, err)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "keyring", kr)
	for _, s := range []string{fmt.Sprint(kr), fmt.Sprintf("%+v", kr), fmt.Sprintf("%#v", kr), logged.String()} {
		require.Contains(t, s, "2026-01")
		require.NotContains(t, s, enc)
		require.NotContains(t, s, string(raw))
	}
}
