package archive

import (
	"backupd/domain"
	"context"
	"encoding/json"
	"sync"
)

// ---- journal ----

type journalEvent struct {
	entries []domain.ArchiveEntry
	cp      *Checkpoint
}

type fakeJournal struct {
	mu     sync.Mutex
	events []journalEvent
	// onCheckpoint is called (outside the lock) after each checkpoint.
	onCheckpoint func(Checkpoint)
	// keepEvery > 1 keeps only every n-th "part" checkpoint, as if the
	// others had been skipped by CheckpointEvery.
	keepEvery int
	parts     int
}

func (j *fakeJournal) RecordEntries(ctx context.Context, es []domain.ArchiveEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events = append(j.events, journalEvent{entries: append([]domain.ArchiveEntry(nil), es...)})
	return nil
}

func (j *fakeJournal) Checkpoint(ctx context.Context, cp Checkpoint) error {
	// A real journal stores JSON: go through it so nothing is shared.
	raw, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	var c Checkpoint
	if err := json.Unmarshal(raw, &c); err != nil {
		return err
	}
	j.mu.Lock()
	if c.Reason == "part" && j.keepEvery > 1 {
		j.parts++
		if j.parts%j.keepEvery != 0 {
			j.mu.Unlock()
			return nil
		}
	}
	j.events = append(j.events, journalEvent{cp: &c})
	hook := j.onCheckpoint
	j.mu.Unlock()
	if hook != nil {
		hook(c)
	}
	return nil
}

func (j *fakeJournal) Last(ctx context.Context) (*Checkpoint, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := len(j.events) - 1; i >= 0; i-- {
		if cp := j.events[i].cp; cp != nil {
			c := *cp
			return &c, nil
		}
	}
	return nil, nil
}

func (j *fakeJournal) Replay(ctx context.Context, onEntries func([]domain.ArchiveEntry) error, onCheckpoint func(Checkpoint) error) error {
	j.mu.Lock()
	events := append([]journalEvent(nil), j.events...)
	j.mu.Unlock()
	for _, e := range events {
		var err error
		if e.cp != nil {
			err = onCheckpoint(*e.cp)
		} else {
			err = onEntries(e.entries)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (j *fakeJournal) checkpoints() []Checkpoint {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Checkpoint
	for _, e := range j.events {
		if e.cp != nil {
			out = append(out, *e.cp)
		}
	}
	return out
}
