package executors

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/executors/archive"
	"backupd/projections"

	"github.com/google/uuid"
)

// RestorePlanner serves the restore wizard: the manifest stored beside an
// archive (read from the destination without downloading the archive) and
// the preflight of a restore.
type RestorePlanner struct {
	store   *eventstore.Store
	conns   *Connectors
	queries *projections.Queries
}

func NewRestorePlanner(store *eventstore.Store, conns *Connectors, queries *projections.Queries) *RestorePlanner {
	return &RestorePlanner{store: store, conns: conns, queries: queries}
}

// completedBackup loads a completed backup and its archive's destination.
func (p *RestorePlanner) completedBackup(ctx context.Context, backupID uuid.UUID) (*domain.Operation, archive.Destination, error) {
	op, err := commands.Load(ctx, p.store, commands.OperationStream(backupID), func() *domain.Operation { return domain.NewOperation(backupID) })
	if err != nil {
		return nil, nil, err
	}
	if !op.Exists() || op.Kind != domain.OpBackup {
		return nil, nil, domain.NotFound("backup-not-found", "backup not found")
	}
	if op.Status != domain.OpCompleted || op.Result == nil {
		return nil, nil, domain.Conflict("backup-not-completed", "only a completed backup has an archive")
	}
	conn, err := commands.Load(ctx, p.store, commands.ConnectionStream(op.Destination.ID), func() *domain.Connection { return domain.NewConnection(op.Destination.ID) })
	if err != nil {
		return nil, nil, err
	}
	if !conn.Exists() {
		return nil, nil, domain.Conflict("connection-deleted", fmt.Sprintf("the destination %s holding this archive has been deleted", op.Destination.Name))
	}
	dest, err := p.conns.Destination(ctx, conn, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	return op, dest, nil
}

// Manifest opens the manifest beside a completed backup's archive.
func (p *RestorePlanner) Manifest(ctx context.Context, backupID uuid.UUID) (io.ReadCloser, error) {
	op, dest, err := p.completedBackup(ctx, backupID)
	if err != nil {
		return nil, err
	}
	rc, err := dest.Open(ctx, archive.Location(op.Result.ManifestLocation), 0)
	if err != nil {
		return nil, fmt.Errorf("reading the manifest at %s: %w", op.Result.ManifestLocation, err)
	}
	return rc, nil
}
