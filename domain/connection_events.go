package domain

import (
	"time"

	"github.com/google/uuid"
)

type ConnectionCreated struct {
	ConnectionID uuid.UUID               `json:"connection_id"`
	Kind         ConnectionKind          `json:"kind"`
	Name         string                  `json:"name"`
	Settings     map[string]string       `json:"settings"`
	Secrets      map[string]SealedSecret `json:"secrets"`
	At           time.Time               `json:"at"`
}

// ConnectionUpdated carries the full settings and sealed secrets after the
// update (secrets left blank in the form keep their previous sealed value).
type ConnectionUpdated struct {
	ConnectionID uuid.UUID               `json:"connection_id"`
	Name         string                  `json:"name"`
	Settings     map[string]string       `json:"settings"`
	Secrets      map[string]SealedSecret `json:"secrets"`
	At           time.Time               `json:"at"`
}

// ConnectionChecked is the result of connecting to the service.
type ConnectionChecked struct {
	ConnectionID uuid.UUID         `json:"connection_id"`
	Status       ConnectionStatus  `json:"status"`
	Reason       string            `json:"reason,omitempty"`
	Field        string            `json:"field,omitempty"`
	Details      map[string]string `json:"details,omitempty"`
	At           time.Time         `json:"at"`
}

// ConnectionTokensRefreshed records a new OAuth access token (sealed).
type ConnectionTokensRefreshed struct {
	ConnectionID uuid.UUID    `json:"connection_id"`
	AccessToken  SealedSecret `json:"access_token"`
	RefreshToken SealedSecret `json:"refresh_token,omitempty"` // when the server rotated it
	Expiry       time.Time    `json:"expiry"`
	At           time.Time    `json:"at"`
}

type ConnectionDeleted struct {
	ConnectionID uuid.UUID `json:"connection_id"`
	At           time.Time `json:"at"`
}

// ConnectionOperationAttached marks the connection as used by an active
// operation; while any is attached the connection cannot be deleted.
type ConnectionOperationAttached struct {
	ConnectionID uuid.UUID `json:"connection_id"`
	OperationID  uuid.UUID `json:"operation_id"`
	At           time.Time `json:"at"`
}

type ConnectionOperationDetached struct {
	ConnectionID uuid.UUID `json:"connection_id"`
	OperationID  uuid.UUID `json:"operation_id"`
	At           time.Time `json:"at"`
}

func (ConnectionCreated) EventType() string           { return "ConnectionCreated.v1" }
func (ConnectionUpdated) EventType() string           { return "ConnectionUpdated.v1" }
func (ConnectionChecked) EventType() string           { return "ConnectionChecked.v1" }
func (ConnectionTokensRefreshed) EventType() string   { return "ConnectionTokensRefreshed.v1" }
func (ConnectionDeleted) EventType() string           { return "ConnectionDeleted.v1" }
func (ConnectionOperationAttached) EventType() string { return "ConnectionOperationAttached.v1" }
func (ConnectionOperationDetached) EventType() string { return "ConnectionOperationDetached.v1" }

func init() {
	RegisterEvent[ConnectionCreated]()
	RegisterEvent[ConnectionUpdated]()
	RegisterEvent[ConnectionChecked]()
	RegisterEvent[ConnectionTokensRefreshed]()
	RegisterEvent[ConnectionDeleted]()
	RegisterEvent[ConnectionOperationAttached]()
	RegisterEvent[ConnectionOperationDetached]()
}
