package projections

import (
	"context"
	"time"

	"backupd/commands/eventstore"
	"backupd/domain"

	"github.com/jackc/pgx/v5"
)

// connectionsProjector keeps the connections table. Sealed secrets never
// reach it: only the names of the secret fields that hold a value.
type connectionsProjector struct{}

func (connectionsProjector) Name() string     { return "connections" }
func (connectionsProjector) Tables() []string { return []string{"connections"} }
func (connectionsProjector) EventTypes() []string {
	return []string{
		domain.ConnectionCreated{}.EventType(), domain.ConnectionUpdated{}.EventType(),
		domain.ConnectionChecked{}.EventType(), domain.ConnectionTokensRefreshed{}.EventType(),
		domain.ConnectionDeleted{}.EventType(), domain.ConnectionOperationAttached{}.EventType(),
		domain.ConnectionOperationDetached{}.EventType(),
	}
}

func (p connectionsProjector) Apply(ctx context.Context, tx pgx.Tx, rec eventstore.Recorded) error {
	switch e := rec.Event.(type) {
	case domain.ConnectionCreated:
		_, err := tx.Exec(ctx, `INSERT INTO connections (id, kind, role, service, name, settings, secrets_set, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
			e.ConnectionID, e.Kind, e.Kind.Role(), e.Kind.Service(), e.Name,
			jsonb(publicSettings(e.Kind, e.Settings)), jsonb(secretsSet(e.Secrets)), domain.StatusUnchecked, e.At)
		return err
	case domain.ConnectionUpdated:
		kind, err := connectionKind(ctx, tx, e.ConnectionID)
		if err != nil {
			return err
		}
		return exec1(ctx, tx, "connection updated", `UPDATE connections SET name = $2, settings = $3, secrets_set = $4, updated_at = $5 WHERE id = $1`,
			e.ConnectionID, e.Name, jsonb(publicSettings(kind, e.Settings)), jsonb(secretsSet(e.Secrets)), e.At)
	case domain.ConnectionChecked:
		return exec1(ctx, tx, "connection checked", `UPDATE connections
			SET status = $2, status_reason = $3, status_field = $4, details = $5, checked_at = $6, updated_at = $6 WHERE id = $1`,
			e.ConnectionID, e.Status, e.Reason, e.Field, jsonb(e.Details), e.At)
	case domain.ConnectionTokensRefreshed:
		// As the aggregate does: the expiry shows among the settings, and
		// the token fields count as set.
		set := map[string]bool{}
		if !e.AccessToken.IsZero() {
			set["access_token"] = true
		}
		if !e.RefreshToken.IsZero() {
			set["refresh_token"] = true
		}
		return exec1(ctx, tx, "connection tokens refreshed", `UPDATE connections
			SET settings = settings || jsonb_build_object('token_expiry', $2::text), token_expiry = $3,
			    secrets_set = secrets_set || $4, updated_at = $5 WHERE id = $1`,
			e.ConnectionID, e.Expiry.UTC().Format(time.RFC3339), e.Expiry, jsonb(set), e.At)
	case domain.ConnectionDeleted:
		return exec1(ctx, tx, "connection deleted", `UPDATE connections SET deleted = true, deleted_at = $2, updated_at = $2 WHERE id = $1`,
			e.ConnectionID, e.At)
	case domain.ConnectionOperationAttached:
		return exec1(ctx, tx, "operation attached", `UPDATE connections SET active_operations = active_operations + 1 WHERE id = $1`, e.ConnectionID)
	case domain.ConnectionOperationDetached:
		return exec1(ctx, tx, "operation detached", `UPDATE connections SET active_operations = greatest(active_operations - 1, 0) WHERE id = $1`, e.ConnectionID)
	}
	return unexpectedEvent(p, rec)
}

func connectionKind(ctx context.Context, tx pgx.Tx, id any) (domain.ConnectionKind, error) {
	var kind domain.ConnectionKind
	err := tx.QueryRow(ctx, `SELECT kind FROM connections WHERE id = $1`, id).Scan(&kind)
	return kind, err
}

// publicSettings keeps the settings the kind declares as non-secret. The
// domain already refuses secrets among settings; this makes sure no row can
// hold one even if an event did.
func publicSettings(kind domain.ConnectionKind, settings map[string]string) map[string]string {
	spec, err := domain.SpecOf(kind)
	if err != nil {
		return map[string]string{}
	}
	public := map[string]bool{}
	for _, f := range spec.Fields {
		if !f.Secret() {
			public[f.Name] = true
		}
	}
	out := make(map[string]string, len(settings))
	for k, v := range settings {
		if public[k] {
			out[k] = v
		}
	}
	return out
}

// secretsSet names the secret fields holding a value.
func secretsSet(secrets map[string]domain.SealedSecret) map[string]bool {
	out := make(map[string]bool, len(secrets))
	for k, v := range secrets {
		if !v.IsZero() {
			out[k] = true
		}
	}
	return out
}
