package commands

import (
	"context"
	"errors"
	"fmt"

	"backupd/domain"
)

// EventStore is what commands need from the event store.
type EventStore interface {
	// Load applies every event of stream to agg and sets its version; a
	// missing stream leaves agg new (version -1) and is not an error.
	Load(ctx context.Context, stream string, agg domain.Aggregate) error
	// Save appends agg's uncommitted events expecting the version agg was
	// loaded at. A concurrent write fails with domain.ErrConcurrentUpdate.
	Save(ctx context.Context, stream string, agg domain.Aggregate) error
}

const maxConflictRetries = 3

// Update loads the aggregate of stream, lets decide change it and saves it,
// reloading and deciding again when another writer got there first.
func Update[A domain.Aggregate](ctx context.Context, store EventStore, stream string, fresh func() A, decide func(A) error) (A, error) {
	var agg A
	for attempt := 0; ; attempt++ {
		agg = fresh()
		if err := store.Load(ctx, stream, agg); err != nil {
			return agg, fmt.Errorf("load %s: %w", stream, err)
		}
		if err := decide(agg); err != nil {
			return agg, err
		}
		if len(agg.Uncommitted()) == 0 {
			return agg, nil
		}
		err := store.Save(ctx, stream, agg)
		if err == nil {
			return agg, nil
		}
		if !errors.Is(err, domain.ErrConcurrentUpdate) || attempt >= maxConflictRetries {
			return agg, err
		}
	}
}

// Load reads an aggregate without changing it.
func Load[A domain.Aggregate](ctx context.Context, store EventStore, stream string, fresh func() A) (A, error) {
	agg := fresh()
	if err := store.Load(ctx, stream, agg); err != nil {
		return agg, fmt.Errorf("load %s: %w", stream, err)
	}
	return agg, nil
}
