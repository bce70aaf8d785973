package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"backupd/commands/secrets"
)

// keyringFile holds the encryption keys generated on first start when
// BACKUPD_ENCRYPTION_KEYS is empty, so `docker compose up` works without a
// setup step. Losing it means losing every stored credential: the README
// says to back it up (or to set the variable).
const keyringFile = "encryption.keys"

func loadKeyring(c Config, logger *slog.Logger) (*secrets.Keyring, error) {
	if c.EncryptionKeys != "" {
		return secrets.ParseKeyring(c.EncryptionKeys)
	}
	path := filepath.Join(c.DataDir, keyringFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		spec := secrets.GenerateKeySpec("k1")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		if _, err := f.WriteString(spec + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		logger.Warn("generated a new encryption key for stored credentials; back this file up or set BACKUPD_ENCRYPTION_KEYS", "file", path)
		return secrets.ParseKeyring(spec)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return secrets.ParseKeyring(strings.TrimSpace(string(b)))
}
