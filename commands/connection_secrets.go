package commands

import (
	"bytes"
	"fmt"
	"maps"

	"backupd/commands/secrets"
	"backupd/domain"
)

// OpenSecrets returns a connection's secrets in plaintext, for the executors
// and checkers that connect with them. Never log or store the result.
func OpenSecrets(keyring *secrets.Keyring, c *domain.Connection) (map[string]string, error) {
	plain, err := keyring.OpenMap(c.Secrets)
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", c.ID, err)
	}
	return plain, nil
}

// validateSecretNames refuses secrets the kind does not have, and settings
// sent as secrets (they would be hidden from the form for no reason).
func validateSecretNames(kind domain.ConnectionKind, plain map[string]string) error {
	spec, err := domain.SpecOf(kind)
	if err != nil {
		return err
	}
	for name := range plain {
		f, ok := fieldOf(spec, name)
		if !ok {
			return domain.Invalid("field-unknown", name, "unknown secret")
		}
		if !f.Secret() {
			return domain.Invalid("not-a-secret", name, "this setting is not a secret; send it with the settings")
		}
	}
	return nil
}

func fieldOf(spec domain.KindSpec, name string) (domain.FieldSpec, bool) {
	for _, f := range spec.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return domain.FieldSpec{}, false
}

// nonEmpty drops blank values ("" means "no value" or "keep the stored one").
func nonEmpty(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func presence(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k, v := range m {
		if v != "" {
			out[k] = true
		}
	}
	return out
}

// overlay returns base with every non-empty value of top on it.
func overlay(base, top map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, nonEmpty(top))
	return out
}

func sameSealed(a, b domain.SealedSecret) bool {
	return a.KeyID == b.KeyID && bytes.Equal(a.Nonce, b.Nonce) && bytes.Equal(a.Ciphertext, b.Ciphertext)
}

// sameCredentials reports whether c still has the settings and secrets a
// check was made with (a concurrent edit makes the check stale). A refreshed
// OAuth access token does not: the Drive client refreshes it mid-operation,
// and the old and new tokens are both good.
func sameCredentials(c *domain.Connection, settings map[string]string, sealed map[string]domain.SealedSecret) bool {
	return maps.Equal(withoutTokenRefresh(c.Settings), withoutTokenRefresh(settings)) &&
		maps.EqualFunc(withoutTokenRefresh(c.Secrets), withoutTokenRefresh(sealed), sameSealed)
}

func withoutTokenRefresh[V any](m map[string]V) map[string]V {
	out := maps.Clone(m)
	delete(out, accessTokenField)
	delete(out, tokenExpiryField)
	return out
}
