package domain

import (
	"maps"
	"strings"
	"time"

	"github.com/google/uuid"
)

type ConnectionStatus string

const (
	StatusUnchecked ConnectionStatus = "unchecked"
	StatusValid     ConnectionStatus = "valid"
	StatusInvalid   ConnectionStatus = "invalid"
)

type Connection struct {
	Root
	ID       uuid.UUID
	Kind     ConnectionKind
	Name     string
	Settings map[string]string
	Secrets  map[string]SealedSecret
	Status   ConnectionStatus
	Reason   string
	Details  map[string]string
	// CheckedAt is when the connection was last checked.
	CheckedAt   time.Time
	TokenExpiry time.Time
	Deleted     bool
	created     bool
	active      map[uuid.UUID]bool // operations using it
}

func NewConnection(id uuid.UUID) *Connection {
	return &Connection{Root: NewRoot(), ID: id, active: map[uuid.UUID]bool{}}
}

func (c *Connection) Exists() bool { return c.created && !c.Deleted }

// ActiveOperations is the number of pending, running, paused or interrupted
// operations using the connection.
func (c *Connection) ActiveOperations() int { return len(c.active) }

// Check is the outcome of connecting to the service with a connection's
// settings. It is produced by the caller (the domain does no I/O).
type Check struct {
	OK      bool
	Reason  string // the service's own reason, in plain words
	Field   string // the form field the failure concerns, if any
	Details map[string]string
}

func validateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", Invalid("name-required", "name", "enter a name")
	}
	if len(name) > 100 {
		return "", Invalid("name-too-long", "name", "the name may have at most 100 characters")
	}
	return name, nil
}

func secretsPresent(s map[string]SealedSecret) map[string]bool {
	out := map[string]bool{}
	for k, v := range s {
		if !v.IsZero() {
			out[k] = true
		}
	}
	return out
}

// ValidateConnectionInput checks a connection's settings before the caller
// spends time connecting to the service.
func ValidateConnectionInput(kind ConnectionKind, name string, settings map[string]string, secretsSet map[string]bool) error {
	spec, err := SpecOf(kind)
	if err != nil {
		return err
	}
	if _, err := validateName(name); err != nil {
		return err
	}
	return validateSettings(spec, settings, secretsSet)
}

// Create records a new connection. check is the result of connecting with
// these settings: a failed check stores nothing and returns the reason as an
// error on the right field.
func (c *Connection) Create(kind ConnectionKind, name string, settings map[string]string, secrets map[string]SealedSecret, check Check, now time.Time) error {
	if c.created {
		return Conflict("connection-exists", "this connection already exists")
	}
	if err := ValidateConnectionInput(kind, name, settings, secretsPresent(secrets)); err != nil {
		return err
	}
	if !check.OK {
		return checkError(check)
	}
	name = strings.TrimSpace(name)
	c.raise(ConnectionCreated{ConnectionID: c.ID, Kind: kind, Name: name, Settings: maps.Clone(settings), Secrets: maps.Clone(secrets), At: now})
	c.raise(ConnectionChecked{ConnectionID: c.ID, Status: StatusValid, Details: check.Details, At: now})
	return nil
}

// MergeSecrets returns the secrets after an edit: a field given a new sealed
// value replaces the old one, a field left blank keeps it.
func (c *Connection) MergeSecrets(changed map[string]SealedSecret) map[string]SealedSecret {
	out := maps.Clone(c.Secrets)
	if out == nil {
		out = map[string]SealedSecret{}
	}
	for k, v := range changed {
		if !v.IsZero() {
			out[k] = v
		}
	}
	return out
}

// Update replaces settings and secrets (already merged by MergeSecrets) after
// a successful check; a failed check changes nothing.
func (c *Connection) Update(name string, settings map[string]string, secrets map[string]SealedSecret, check Check, now time.Time) error {
	if !c.created {
		return ErrNotFound
	}
	if c.Deleted {
		return ErrConnectionDeleted
	}
	if err := ValidateConnectionInput(c.Kind, name, settings, secretsPresent(secrets)); err != nil {
		return err
	}
	if !check.OK {
		return checkError(check)
	}
	c.raise(ConnectionUpdated{ConnectionID: c.ID, Name: strings.TrimSpace(name), Settings: maps.Clone(settings), Secrets: maps.Clone(secrets), At: now})
	c.raise(ConnectionChecked{ConnectionID: c.ID, Status: StatusValid, Details: check.Details, At: now})
	return nil
}

// RecordCheck stores the result of a re-check (from the UI or the periodic
// job); unlike Create and Update a failure is recorded, not refused.
func (c *Connection) RecordCheck(check Check, now time.Time) error {
	if !c.Exists() {
		return ErrNotFound
	}
	ev := ConnectionChecked{ConnectionID: c.ID, Status: StatusValid, Details: check.Details, At: now}
	if !check.OK {
		ev.Status, ev.Reason, ev.Field = StatusInvalid, check.Reason, check.Field
	}
	c.raise(ev)
	return nil
}

// RefreshTokens records a new OAuth access token.
func (c *Connection) RefreshTokens(access, refresh SealedSecret, expiry, now time.Time) error {
	if !c.Exists() {
		return ErrNotFound
	}
	if c.Kind != KindDriveDestination {
		return Invalid("not-oauth", "kind", "only Google Drive connections have OAuth tokens")
	}
	c.raise(ConnectionTokensRefreshed{ConnectionID: c.ID, AccessToken: access, RefreshToken: refresh, Expiry: expiry, At: now})
	return nil
}

// Delete refuses while active operations use the connection.
func (c *Connection) Delete(now time.Time) error {
	if !c.created {
		return ErrNotFound
	}
	if c.Deleted {
		return ErrConnectionDeleted
	}
	if len(c.active) > 0 {
		return ErrConnectionInUse
	}
	c.raise(ConnectionDeleted{ConnectionID: c.ID, At: now})
	return nil
}

// AttachOperation reserves the connection for an operation. want is the role
// the operation needs it in ("" for any).
func (c *Connection) AttachOperation(opID uuid.UUID, want Role, now time.Time) error {
	if !c.created {
		return NotFound("connection-not-found", "connection not found")
	}
	if c.Deleted {
		return ErrConnectionDeleted
	}
	if want != "" && c.Kind.Role() != want {
		return Invalid("wrong-role", string(want), "the connection "+c.Name+" is not a "+string(want))
	}
	if c.active[opID] {
		return nil
	}
	c.raise(ConnectionOperationAttached{ConnectionID: c.ID, OperationID: opID, At: now})
	return nil
}

// DetachOperation releases the reservation; detaching twice is a no-op so
// the process manager can be re-run.
func (c *Connection) DetachOperation(opID uuid.UUID, now time.Time) {
	if c.active[opID] {
		c.raise(ConnectionOperationDetached{ConnectionID: c.ID, OperationID: opID, At: now})
	}
}

func checkError(check Check) error {
	field := check.Field
	if field == "" {
		field = "connection"
	}
	reason := check.Reason
	if reason == "" {
		reason = "the connection check failed"
	}
	return Invalid("connection-check-failed", field, reason)
}

func (c *Connection) raise(e Event) {
	c.Apply(e)
	c.record(e)
}

func (c *Connection) Apply(e Event) {
	switch e := e.(type) {
	case ConnectionCreated:
		c.created = true
		c.ID, c.Kind, c.Name = e.ConnectionID, e.Kind, e.Name
		c.Settings, c.Secrets = maps.Clone(e.Settings), maps.Clone(e.Secrets)
		c.Status = StatusUnchecked
	case ConnectionUpdated:
		c.Name = e.Name
		c.Settings, c.Secrets = maps.Clone(e.Settings), maps.Clone(e.Secrets)
	case ConnectionChecked:
		c.Status, c.Reason, c.Details, c.CheckedAt = e.Status, e.Reason, e.Details, e.At
	case ConnectionTokensRefreshed:
		if c.Secrets == nil {
			c.Secrets = map[string]SealedSecret{}
		}
		c.Secrets["access_token"] = e.AccessToken
		if !e.RefreshToken.IsZero() {
			c.Secrets["refresh_token"] = e.RefreshToken
		}
		if c.Settings == nil {
			c.Settings = map[string]string{}
		}
		c.Settings["token_expiry"] = e.Expiry.UTC().Format(time.RFC3339)
		c.TokenExpiry = e.Expiry
	case ConnectionDeleted:
		c.Deleted = true
	case ConnectionOperationAttached:
		if c.active == nil {
			c.active = map[uuid.UUID]bool{}
		}
		c.active[e.OperationID] = true
	case ConnectionOperationDetached:
		delete(c.active, e.OperationID)
	}
}
