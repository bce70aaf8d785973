package domain

import (
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Login throttling per account: after MaxFailedLogins failures within
// FailedLoginWindow the account refuses logins until the window has passed
// since the last failure.
const (
	MaxFailedLogins   = 5
	FailedLoginWindow = 15 * time.Minute
	MinPasswordLength = 10
)

type User struct {
	Root
	ID           uuid.UUID
	Email        string
	Name         string
	Role         string
	PasswordHash string
	registered   bool

	failures   []time.Time // recent failed logins, oldest first
	resetToken struct {
		hash      string
		expiresAt time.Time
	}
}

func NewUser(id uuid.UUID) *User { return &User{Root: NewRoot(), ID: id} }

func (u *User) Exists() bool { return u.registered }

// NormalizeEmail is the form e-mails are compared and reserved in.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// ValidatePassword checks the password policy.
func ValidatePassword(password string) error {
	if len(password) < MinPasswordLength {
		return Invalid("password-too-short", "password", "the password must have at least 10 characters")
	}
	if len(password) > 72 { // bcrypt ignores what follows
		return Invalid("password-too-long", "password", "the password must have at most 72 bytes")
	}
	return nil
}

// Register records a new administrator. The caller hashes the password.
func (u *User) Register(email, name, passwordHash string, now time.Time) error {
	if u.registered {
		return Conflict("user-exists", "this user already exists")
	}
	email = NormalizeEmail(email)
	if _, err := mail.ParseAddress(email); err != nil || !strings.Contains(email, "@") {
		return Invalid("email-invalid", "email", "enter a valid e-mail address")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return Invalid("name-required", "name", "enter a name")
	}
	u.raise(UserRegistered{UserID: u.ID, Email: email, Name: name, PasswordHash: passwordHash, Role: "admin", At: now})
	return nil
}

// LoginAllowed reports whether the account is throttled at now.
func (u *User) LoginAllowed(now time.Time) bool {
	recent := 0
	for _, f := range u.failures {
		if now.Sub(f) < FailedLoginWindow {
			recent++
		}
	}
	return recent < MaxFailedLogins
}

// Login decides a login attempt given whether the password matched (checked
// by the caller). A throttled account fails even with the right password.
func (u *User) Login(passwordOK bool, ip, userAgent string, now time.Time) error {
	if !u.registered {
		return ErrInvalidCredentials
	}
	if !u.LoginAllowed(now) {
		u.raise(UserLoginFailed{UserID: u.ID, IP: ip, Reason: "throttled", At: now})
		return ErrLoginThrottled
	}
	if !passwordOK {
		u.raise(UserLoginFailed{UserID: u.ID, IP: ip, Reason: "wrong-password", At: now})
		return ErrInvalidCredentials
	}
	u.raise(UserLoggedIn{UserID: u.ID, IP: ip, UserAgent: userAgent, At: now})
	return nil
}

func (u *User) Logout(reason string, now time.Time) {
	if u.registered {
		u.raise(UserLoggedOut{UserID: u.ID, Reason: reason, At: now})
	}
}

// RequestPasswordReset records a reset token (its hash) valid for ttl.
func (u *User) RequestPasswordReset(tokenHash string, ttl time.Duration, now time.Time) error {
	if !u.registered {
		return ErrNotFound
	}
	u.raise(PasswordResetRequested{UserID: u.ID, TokenHash: tokenHash, ExpiresAt: now.Add(ttl), At: now})
	return nil
}

// ResetPassword consumes the latest reset token; older tokens, used tokens
// and expired ones are refused.
func (u *User) ResetPassword(tokenHash, newPasswordHash string, now time.Time) error {
	if !u.registered || u.resetToken.hash == "" || u.resetToken.hash != tokenHash || !now.Before(u.resetToken.expiresAt) {
		return ErrResetTokenInvalid
	}
	u.raise(PasswordChanged{UserID: u.ID, PasswordHash: newPasswordHash, ResetTokenHash: tokenHash, At: now})
	return nil
}

// ChangePassword is a change by the logged-in user (current password checked
// by the caller).
func (u *User) ChangePassword(newPasswordHash string, now time.Time) error {
	if !u.registered {
		return ErrNotFound
	}
	u.raise(PasswordChanged{UserID: u.ID, PasswordHash: newPasswordHash, At: now})
	return nil
}

func (u *User) raise(e Event) {
	u.Apply(e)
	u.record(e)
}

func (u *User) Apply(e Event) {
	switch e := e.(type) {
	case UserRegistered:
		u.registered = true
		u.ID, u.Email, u.Name, u.Role, u.PasswordHash = e.UserID, e.Email, e.Name, e.Role, e.PasswordHash
	case UserLoginFailed:
		if e.Reason == "wrong-password" {
			u.failures = append(u.failures, e.At)
			if len(u.failures) > MaxFailedLogins {
				u.failures = u.failures[len(u.failures)-MaxFailedLogins:]
			}
		}
	case UserLoggedIn:
		u.failures = nil
	case PasswordResetRequested:
		u.resetToken.hash, u.resetToken.expiresAt = e.TokenHash, e.ExpiresAt
	case PasswordChanged:
		u.PasswordHash = e.PasswordHash
		u.failures = nil
		u.resetToken.hash = "" // any outstanding token dies with the old password
	}
}
