package executors

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/executors/mongodb"
	"backupd/executors/s3"
)

// targetAccess is a restore target with its secrets in plaintext: what the
// S3 or MongoDB target is built from. Never log or store it.
type targetAccess struct {
	Kind         domain.ConnectionKind
	Name         string
	ConnectionID string // "" for details typed in
	Settings     map[string]string
	Secrets      map[string]string
}

// S3Target builds the bucket a restore writes into, under prefix.
func (c *Connectors) S3Target(settings, secrets map[string]string, prefix string, logger *slog.Logger) (*s3.Target, error) {
	cfg, err := s3.ConfigFrom(settings, secrets)
	if err != nil {
		return nil, err
	}
	if _, err := s3.TargetKey(prefix, "probe"); err != nil {
		return nil, domain.Invalid("prefix-invalid", "prefix", err.Error())
	}
	return s3.NewTarget(cfg, prefix, logger, c.S3Options...), nil
}

// MongoTarget builds the database a restore writes into. database (the
// restore's option) wins over the connection's own database.
func (c *Connectors) MongoTarget(settings, secrets map[string]string, database string, logger *slog.Logger) (*mongodb.Target, error) {
	settings = maps.Clone(settings)
	if settings == nil {
		settings = map[string]string{}
	}
	if database != "" {
		settings["database"] = database
	}
	cfg, err := mongodb.ConfigFrom(settings, secrets)
	if err != nil {
		return nil, err
	}
	var opts []mongodb.TargetOption
	if c.SpoolDir != "" {
		opts = append(opts, mongodb.WithSpoolDir(c.SpoolDir))
	}
	return mongodb.NewTarget(cfg, c.Tools, logger, opts...), nil
}

// restoreTargetAccess opens a restore's recorded target: an existing
// connection (loaded now, so a rotated secret is used) or details typed in,
// whose secrets the request sealed into the event.
func restoreTargetAccess(ctx context.Context, store *eventstore.Store, conns *Connectors, t domain.RestoreTarget) (targetAccess, error) {
	if t.ConnectionID != nil {
		conn, err := commands.Load(ctx, store, commands.ConnectionStream(*t.ConnectionID), func() *domain.Connection { return domain.NewConnection(*t.ConnectionID) })
		if err != nil {
			return targetAccess{}, err
		}
		if !conn.Exists() {
			return targetAccess{}, fmt.Errorf("the target connection %s: %w", t.Name, errConnectionGone)
		}
		return connectionAccess(conns, conn)
	}
	plain, err := conns.Keyring.OpenMap(t.Secrets)
	if err != nil {
		return targetAccess{}, fmt.Errorf("the target's credentials cannot be decrypted: %w", err)
	}
	return targetAccess{Kind: t.Kind, Name: t.Name, Settings: maps.Clone(t.Settings), Secrets: plain}, nil
}

func connectionAccess(conns *Connectors, conn *domain.Connection) (targetAccess, error) {
	plain, err := commands.OpenSecrets(conns.Keyring, conn)
	if err != nil {
		return targetAccess{}, err
	}
	return targetAccess{Kind: conn.Kind, Name: conn.Name, ConnectionID: conn.ID.String(), Settings: maps.Clone(conn.Settings), Secrets: plain}, nil
}

// describeS3Target names a bucket and prefix as an administrator reads it.
func describeS3Target(settings map[string]string, prefix string) string {
	return "s3://" + settings["bucket"] + "/" + prefix
}

// mongoHosts is the host list of a MongoDB URI (no credentials), to tell
// whether two URIs reach the same server.
func mongoHosts(uri string) string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return ""
	}
	if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
		rest = rest[at+1:]
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	return strings.ToLower(rest)
}
