package domain

import (
	"time"

	"github.com/google/uuid"
)

type UserRegistered struct {
	UserID       uuid.UUID `json:"user_id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	PasswordHash string    `json:"password_hash"`
	Role         string    `json:"role"`
	At           time.Time `json:"at"`
}

// UserEmailReserved is the only event of a "useremail-<hash>" stream: it makes
// an e-mail unique across users (the stream can be created only once) and
// maps it to the user for login.
type UserEmailReserved struct {
	UserID uuid.UUID `json:"user_id"`
	Email  string    `json:"email"`
	At     time.Time `json:"at"`
}

type UserLoggedIn struct {
	UserID    uuid.UUID `json:"user_id"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	At        time.Time `json:"at"`
}

type UserLoginFailed struct {
	UserID uuid.UUID `json:"user_id"`
	IP     string    `json:"ip"`
	Reason string    `json:"reason"` // "wrong-password" or "throttled"
	At     time.Time `json:"at"`
}

type UserLoggedOut struct {
	UserID uuid.UUID `json:"user_id"`
	Reason string    `json:"reason"` // "logout" or "idle-timeout"
	At     time.Time `json:"at"`
}

// PasswordResetRequested keeps only the SHA-256 of the token sent by e-mail,
// so the events never hold a usable token.
type PasswordResetRequested struct {
	UserID    uuid.UUID `json:"user_id"`
	TokenHash string    `json:"token_hash"`
	ExpiresAt time.Time `json:"expires_at"`
	At        time.Time `json:"at"`
}

type PasswordChanged struct {
	UserID       uuid.UUID `json:"user_id"`
	PasswordHash string    `json:"password_hash"`
	// ResetTokenHash is set when the change used a reset token, which it
	// consumes.
	ResetTokenHash string    `json:"reset_token_hash,omitempty"`
	At             time.Time `json:"at"`
}

func (UserRegistered) EventType() string         { return "UserRegistered.v1" }
func (UserEmailReserved) EventType() string      { return "UserEmailReserved.v1" }
func (UserLoggedIn) EventType() string           { return "UserLoggedIn.v1" }
func (UserLoginFailed) EventType() string        { return "UserLoginFailed.v1" }
func (UserLoggedOut) EventType() string          { return "UserLoggedOut.v1" }
func (PasswordResetRequested) EventType() string { return "PasswordResetRequested.v1" }
func (PasswordChanged) EventType() string        { return "PasswordChanged.v1" }

func init() {
	RegisterEvent[UserRegistered]()
	RegisterEvent[UserEmailReserved]()
	RegisterEvent[UserLoggedIn]()
	RegisterEvent[UserLoginFailed]()
	RegisterEvent[UserLoggedOut]()
	RegisterEvent[PasswordResetRequested]()
	RegisterEvent[PasswordChanged]()
}
