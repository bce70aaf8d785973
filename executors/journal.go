package executors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/executors/archive"

	"github.com/google/uuid"
)

// ErrFenced means another worker has taken over the operation: this one
// must stop writing at once.
var ErrFenced = errors.New("another worker has taken over this operation")

// maxEntriesBytes keeps one ArchiveEntriesRecorded event well under
// EventStoreDB's 1 MiB append limit.
const maxEntriesBytes = 512 << 10

// Journal is archive.Journal over the operation's checkpoint stream. Every
// append expects the revision this worker last wrote, so a worker that was
// declared dead and replaced cannot write one more entry (fencing).
type Journal struct {
	store    *eventstore.Store
	opID     uuid.UUID
	attempt  int
	workerID string
	base     context.Context
	revision int64 // last revision of the stream, -1 when empty
}

var _ archive.Journal = (*Journal)(nil)

// OpenJournal reads the stream's current revision; appends start from it.
func OpenJournal(ctx context.Context, store *eventstore.Store, opID uuid.UUID, workerID string, attempt int) (*Journal, error) {
	j := &Journal{store: store, opID: opID, attempt: attempt, workerID: workerID, base: context.WithoutCancel(ctx), revision: -1}
	last, ok, err := store.ReadLast(ctx, commands.OperationCheckpointStream(opID))
	if err != nil {
		return nil, err
	}
	if ok {
		j.revision = int64(last.Revision)
	}
	return j, nil
}

func (j *Journal) stream() string { return commands.OperationCheckpointStream(j.opID) }

func (j *Journal) append(ctx context.Context, events ...domain.Event) error {
	ctx = commands.SystemActor(ctx, "worker "+j.workerID, j.opID, uuid.Nil)
	rev, err := j.store.Append(ctx, j.stream(), eventstore.Revision(j.revision), events...)
	if errors.Is(err, domain.ErrConcurrentUpdate) {
		return fmt.Errorf("%w (checkpoint stream of %s moved)", ErrFenced, j.opID)
	}
	if err != nil {
		return err
	}
	j.revision = rev
	return nil
}

// RecordEntries implements archive.Journal.
func (j *Journal) RecordEntries(ctx context.Context, entries []domain.ArchiveEntry) error {
	for len(entries) > 0 {
		n, size := 0, 0
		for n < len(entries) {
			b, err := json.Marshal(entries[n])
			if err != nil {
				return err
			}
			if n > 0 && size+len(b) > maxEntriesBytes {
				break
			}
			size += len(b)
			n++
		}
		if err := j.append(ctx, domain.ArchiveEntriesRecorded{OperationID: j.opID, Attempt: j.attempt, Entries: entries[:n]}); err != nil {
			return err
		}
		entries = entries[n:]
	}
	return nil
}

// Checkpoint implements archive.Journal.
func (j *Journal) Checkpoint(ctx context.Context, cp archive.Checkpoint) error {
	state, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	return j.append(ctx, domain.OperationCheckpointed{OperationID: j.opID, Attempt: j.attempt, Seq: cp.Seq, State: state, At: cp.At})
}

// Last implements archive.Journal.
func (j *Journal) Last(ctx context.Context) (*archive.Checkpoint, error) {
	var last *archive.Checkpoint
	err := j.store.ReadBackward(ctx, j.stream(), func(r eventstore.Recorded) (bool, error) {
		ev, ok := r.Event.(domain.OperationCheckpointed)
		if !ok {
			return true, nil
		}
		var cp archive.Checkpoint
		if err := json.Unmarshal(ev.State, &cp); err != nil {
			return false, fmt.Errorf("checkpoint %d of %s: %w", ev.Seq, j.opID, err)
		}
		last = &cp
		return false, nil
	})
	return last, err
}

// Replay implements archive.Journal.
func (j *Journal) Replay(ctx context.Context, onEntries func([]domain.ArchiveEntry) error, onCheckpoint func(archive.Checkpoint) error) error {
	return j.store.Read(ctx, j.stream(), 0, func(r eventstore.Recorded) error {
		switch ev := r.Event.(type) {
		case domain.ArchiveEntriesRecorded:
			return onEntries(ev.Entries)
		case domain.OperationCheckpointed:
			var cp archive.Checkpoint
			if err := json.Unmarshal(ev.State, &cp); err != nil {
				return fmt.Errorf("checkpoint %d of %s: %w", ev.Seq, j.opID, err)
			}
			return onCheckpoint(cp)
		}
		return nil
	})
}
