package gdrive

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"backupd/domain"
)

// Config is one Google Drive connection: its target folder and its tokens.
type Config struct {
	FolderName   string
	FolderID     string // found or created by Check; empty before the first check
	AccountEmail string
	Token        oauth2.Token // access token (may be empty or expired), refresh token, expiry
}

// ConfigFrom reads a connection's settings and plaintext secrets (the
// fields of domain.KindDriveDestination).
func ConfigFrom(settings, secrets map[string]string) (Config, error) {
	c := Config{
		FolderName:   strings.TrimSpace(settings["folder_name"]),
		FolderID:     strings.TrimSpace(settings["folder_id"]),
		AccountEmail: settings["account_email"],
		Token: oauth2.Token{
			AccessToken:  secrets["access_token"],
			RefreshToken: secrets["refresh_token"],
			TokenType:    "Bearer",
		},
	}
	if v := strings.TrimSpace(settings["token_expiry"]); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return Config{}, domain.Invalid("token-expiry-invalid", "token_expiry", "the token expiry must be an RFC 3339 time")
		}
		c.Token.Expiry = t
	} else if c.Token.AccessToken != "" {
		// Unknown expiry: treat the access token as stale so it is refreshed
		// before use rather than trusted for ever.
		c.Token.Expiry = time.Unix(1, 0)
	}
	return c, c.Validate()
}

// Validate reports the first missing field.
func (c Config) Validate() error {
	if c.FolderName == "" && c.FolderID == "" {
		return domain.Invalid("field-required", "folder_name", "enter the name of the Google Drive folder for the backups")
	}
	if strings.ContainsAny(c.FolderName, "/\x00") {
		return domain.Invalid("folder-name-invalid", "folder_name", "the folder name may not contain / ; it is one folder in My Drive")
	}
	if c.Token.RefreshToken == "" {
		return domain.Invalid("field-required", "refresh_token", "connect a Google account first (no refresh token is stored)")
	}
	return nil
}

// String keeps tokens out of logs and error messages.
func (c Config) String() string {
	return fmt.Sprintf("gdrive.Config{folder=%q folder_id=%q account=%q tokens=[redacted]}", c.FolderName, c.FolderID, c.AccountEmail)
}

func (c Config) GoString() string { return c.String() }

func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("folder", c.FolderName), slog.String("folder_id", c.FolderID),
		slog.String("account", c.AccountEmail))
}
