package executors

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"backupd/commands"
	"backupd/commands/secrets"
	"backupd/domain"
	"backupd/executors/archive"
	"backupd/executors/gdrive"
	"backupd/executors/mongodb"
	"backupd/executors/s3"

	"github.com/google/uuid"
	"golang.org/x/oauth2"
)

// Connectors turns stored connections into the sources and destinations of
// the service packages, and checks connections for the commands (it
// implements commands.ConnectionChecker). It is the one place that knows
// which package serves which connection kind.
type Connectors struct {
	Keyring  *secrets.Keyring
	Drive    gdrive.App
	Tools    mongodb.Tools
	SpoolDir string
	// RecordTokens stores a Drive access token refreshed while an
	// operation runs (commands.RefreshConnectionTokens).
	RecordTokens func(ctx context.Context, connectionID uuid.UUID, tok *oauth2.Token)
	// S3Options and DriveOptions let tests and benchmarks tune part and
	// chunk sizes.
	S3Options    []s3.Option
	DriveOptions gdrive.Options
}

var _ commands.ConnectionChecker = (*Connectors)(nil)

// Check implements commands.ConnectionChecker.
func (c *Connectors) Check(ctx context.Context, kind domain.ConnectionKind, settings, secretValues map[string]string) commands.CheckResult {
	fail := func(err error) commands.CheckResult {
		field := ""
		if de, ok := domain.AsError(err); ok {
			field = de.Field
		}
		return commands.CheckResult{Check: domain.Check{Reason: err.Error(), Field: field}}
	}
	switch kind {
	case domain.KindS3Source, domain.KindS3Destination:
		cfg, err := s3.ConfigFrom(settings, secretValues)
		if err != nil {
			return fail(err)
		}
		return commands.CheckResult{Check: s3.Check(ctx, cfg, kind.Role())}
	case domain.KindMongoSource:
		cfg, err := mongodb.ConfigFrom(settings, secretValues)
		if err != nil {
			return fail(err)
		}
		return commands.CheckResult{Check: mongodb.Check(ctx, cfg, c.Tools)}
	case domain.KindDriveDestination:
		return gdrive.Check(ctx, c.Drive, settings, secretValues, c.DriveOptions)
	}
	return fail(fmt.Errorf("unknown connection kind %q", kind))
}

// Source builds the backup source of a connection.
func (c *Connectors) Source(conn *domain.Connection, logger *slog.Logger) (archive.Source, error) {
	plain, err := commands.OpenSecrets(c.Keyring, conn)
	if err != nil {
		return nil, err
	}
	switch conn.Kind {
	case domain.KindS3Source:
		cfg, err := s3.ConfigFrom(conn.Settings, plain)
		if err != nil {
			return nil, err
		}
		return s3.NewSource(cfg, logger, c.S3Options...), nil
	case domain.KindMongoSource:
		cfg, err := mongodb.ConfigFrom(conn.Settings, plain)
		if err != nil {
			return nil, err
		}
		return mongodb.NewSource(cfg, c.Tools, logger, c.SpoolDir), nil
	}
	return nil, fmt.Errorf("%s is not a backup source (%s)", conn.Name, conn.Kind)
}

// Destination builds the archive destination of a connection.
func (c *Connectors) Destination(ctx context.Context, conn *domain.Connection, logger *slog.Logger) (archive.Destination, error) {
	plain, err := commands.OpenSecrets(c.Keyring, conn)
	if err != nil {
		return nil, err
	}
	switch conn.Kind {
	case domain.KindS3Destination:
		cfg, err := s3.ConfigFrom(conn.Settings, plain)
		if err != nil {
			return nil, err
		}
		return s3.NewDestination(cfg, logger, c.S3Options...), nil
	case domain.KindDriveDestination:
		cfg, err := gdrive.ConfigFrom(conn.Settings, plain)
		if err != nil {
			return nil, err
		}
		opts := c.DriveOptions
		opts.Logger = logger
		id := conn.ID
		opts.OnRefresh = func(tok *oauth2.Token) {
			if c.RecordTokens != nil {
				// Recorded in the background of the upload; a failure is
				// logged by the recorder and the upload goes on with the
				// token it holds.
				c.RecordTokens(context.WithoutCancel(ctx), id, tok)
			}
		}
		return gdrive.New(ctx, c.Drive, cfg, opts)
	}
	return nil, fmt.Errorf("%s is not a backup destination (%s)", conn.Name, conn.Kind)
}

// RecordTokensWith adapts the RefreshConnectionTokens command to
// Connectors.RecordTokens. The commands need the connectors (as their
// checker), so this is wired after both exist.
func RecordTokensWith(h *commands.Handlers, logger *slog.Logger) func(context.Context, uuid.UUID, *oauth2.Token) {
	return func(ctx context.Context, id uuid.UUID, tok *oauth2.Token) {
		ctx = commands.SystemActor(ctx, "token-refresh", id, uuid.Nil)
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, err := h.RefreshConnectionTokens.Handle(ctx, commands.RefreshConnectionTokens{
			ID: id, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry})
		if err != nil {
			logger.Error("cannot record refreshed Google tokens", "connection", id, "error", err)
		}
	}
}
