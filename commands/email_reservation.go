package commands

import (
	"context"
	"time"

	"backupd/domain"

	"github.com/google/uuid"
)

// emailReservation is the aggregate of a "useremail-<hash>" stream: it makes
// an e-mail address unique (the stream is created expecting no stream) and
// maps it to its user for login, without any read model.
type emailReservation struct {
	version     int64
	uncommitted []domain.Event

	userID     uuid.UUID
	reservedAt time.Time
}

func newEmailReservation() *emailReservation { return &emailReservation{version: -1} }

func (r *emailReservation) Apply(e domain.Event) {
	if e, ok := e.(domain.UserEmailReserved); ok {
		r.userID, r.reservedAt = e.UserID, e.At
	}
}
func (r *emailReservation) Version() int64              { return r.version }
func (r *emailReservation) SetVersion(v int64)          { r.version = v }
func (r *emailReservation) Uncommitted() []domain.Event { return r.uncommitted }
func (r *emailReservation) MarkCommitted(v int64)       { r.version, r.uncommitted = v, nil }

func (r *emailReservation) reserved() bool { return r.userID != uuid.Nil }

func (r *emailReservation) reserve(userID uuid.UUID, email string, now time.Time) {
	e := domain.UserEmailReserved{UserID: userID, Email: domain.NormalizeEmail(email), At: now}
	r.Apply(e)
	r.uncommitted = append(r.uncommitted, e)
}

// abandonedReservationAge: a reservation whose user stream still does not
// exist this long after it was made was left by a registration that failed
// between its two appends; a new registration may take the address over
// (appending at the reservation's revision, so only one takes it).
const abandonedReservationAge = 2 * time.Minute

// lookupUserID finds the user of an e-mail address (uuid.Nil when unknown).
func (s *service) lookupUserID(ctx context.Context, email string) (uuid.UUID, error) {
	r, err := Load(ctx, s.store, UserEmailStream(email), newEmailReservation)
	if err != nil {
		return uuid.Nil, err
	}
	return r.userID, nil
}
