package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// ClaimOperation is a worker's claim on a pending operation (it starts it).
// OperationStarted is appended at the revision the worker loaded, so of two
// workers racing for one operation exactly one wins; the other reloads,
// decides again and gets the transition error (errors.Is
// domain.ErrInvalidTransition), or domain.ErrConcurrentUpdate if the stream
// kept changing. Do not retry a refused claim: the operation is someone
// else's.
type ClaimOperation struct {
	ID       uuid.UUID
	WorkerID string
}

type claimOperationHandler struct{ *service }

func (h claimOperationHandler) Handle(ctx context.Context, cmd ClaimOperation) (*domain.Operation, error) {
	if cmd.WorkerID == "" {
		return nil, domain.Invalid("field-required", "worker_id", "a claim needs the worker's id")
	}
	// Event ids derive from the command id: two workers handed the same
	// command id (say, derived from the same event) would write identical
	// ids, and the server would take the loser's append at the same expected
	// revision for a retry of the winner's and report success to both.
	m := MetaFrom(ctx)
	m.CommandID = uuid.NewSHA1(m.CommandID, []byte("claim/"+cmd.WorkerID))
	ctx = WithMeta(ctx, m)
	now := h.now()
	return h.updateOperation(ctx, cmd.ID, func(o *domain.Operation) error {
		return o.Start(cmd.WorkerID, now)
	})
}
