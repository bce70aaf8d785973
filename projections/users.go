package projections

import (
	"context"

	"backupd/commands/eventstore"
	"backupd/domain"

	"github.com/jackc/pgx/v5"
)

// usersProjector keeps the users table. Password hashes and reset token
// hashes stay in the events: the login command reads them from there.
type usersProjector struct{}

func (usersProjector) Name() string     { return "users" }
func (usersProjector) Tables() []string { return []string{"users"} }
func (usersProjector) EventTypes() []string {
	return []string{
		domain.UserRegistered{}.EventType(), domain.UserLoggedIn{}.EventType(),
		domain.UserLoginFailed{}.EventType(), domain.PasswordChanged{}.EventType(),
	}
}

func (p usersProjector) Apply(ctx context.Context, tx pgx.Tx, rec eventstore.Recorded) error {
	switch e := rec.Event.(type) {
	case domain.UserRegistered:
		_, err := tx.Exec(ctx, `INSERT INTO users (id, email, name, role, registered_at) VALUES ($1, $2, $3, $4, $5)`,
			e.UserID, e.Email, e.Name, e.Role, e.At)
		return err
	case domain.UserLoggedIn:
		return exec1(ctx, tx, "user logged in", `UPDATE users SET last_login_at = $2, last_login_ip = $3, failed_logins = 0 WHERE id = $1`,
			e.UserID, e.At, e.IP)
	case domain.UserLoginFailed:
		return exec1(ctx, tx, "user login failed", `UPDATE users SET failed_logins = failed_logins + 1, last_failed_login_at = $2 WHERE id = $1`,
			e.UserID, e.At)
	case domain.PasswordChanged:
		return exec1(ctx, tx, "password changed", `UPDATE users SET password_changed_at = $2 WHERE id = $1`, e.UserID, e.At)
	}
	return unexpectedEvent(p, rec)
}
