package projections_test

import (
	"sort"
	"testing"
	"time"

	"backupd/commands"
	"backupd/domain"
	"backupd/projections"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

type opFact struct {
	id          uuid.UUID
	kind        domain.OperationKind
	status      domain.OperationStatus
	source      uuid.UUID
	requestedAt time.Time
}

func TestListOperationsFiltersPagesAndTotals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.history()
	a, b := h.s3Source("A", "a"), h.s3Source("B", "b")
	dst := h.s3Destination("Backups", "d")

	var facts []opFact
	backup := func(day int, src uuid.UUID, status domain.OperationStatus) uuid.UUID {
		h.clock = time.Date(2026, 11, 19+day, 8+len(facts), 0, 0, 0, time.UTC)
		id := h.requestBackup("alice@example.test", src, dst)
		facts = append(facts, opFact{id, domain.OpBackup, status, src, h.clock})
		switch status {
		case domain.OpPending:
		case domain.OpCancelled:
			h.opUpdate("alice@example.test", id, func(o *domain.Operation, at time.Time) error { return o.RequestCancel(at) })
		default:
			h.start(id, "w1")
		}
		switch status {
		case domain.OpCompleted:
			h.opUpdate("system:w1", id, func(o *domain.Operation, at time.Time) error {
				return o.CompleteBackup("w1", backupResult(1, 10, 5, "s3://backups/x"), at)
			})
		case domain.OpFailed:
			h.opUpdate("system:w1", id, func(o *domain.Operation, at time.Time) error { return o.Fail("w1", "boom", "", "", at) })
		}
		return id
	}
	first := backup(1, a, domain.OpCompleted)
	backup(1, a, domain.OpFailed)
	backup(1, b, domain.OpCompleted)
	backup(2, a, domain.OpCompleted)
	backup(2, a, domain.OpRunning)
	backup(2, b, domain.OpPending)
	backup(2, b, domain.OpCancelled)
	backup(3, a, domain.OpCompleted)
	backup(3, a, domain.OpCompleted)
	backup(3, b, domain.OpFailed)
	// A restore of the first backup, on day 3: its source is the archive's
	// connection (the destination).
	h.clock = time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC)
	restore := uuid.New()
	h.opUpdate("bob@example.test", restore, func(o *domain.Operation, at time.Time) error {
		bk, err := commands.Load(e.ctx, e.store, commands.OperationStream(first), h.op(first))
		if err != nil {
			return err
		}
		aID := a
		return o.RequestRestore(bk, domain.RestoreTarget{ConnectionID: &aID, Kind: domain.KindS3Source, Name: "A"}, domain.RestoreOptions{Prefix: "copy/"}, at)
	})
	facts = append(facts, opFact{restore, domain.OpRestore, domain.OpPending, dst, h.clock})
	e.caughtUp()

	day := func(d int) *time.Time { t := time.Date(2026, 11, 19+d, 0, 0, 0, 0, time.UTC); return &t }
	tests := []struct {
		name   string
		filter projections.OperationFilter
	}{
		{"everything", projections.OperationFilter{}},
		{"status", projections.OperationFilter{Status: "completed"}},
		{"kind", projections.OperationFilter{Kind: "restore"}},
		{"source and kind", projections.OperationFilter{Kind: "backup", SourceID: a}},
		{"source, status and from", projections.OperationFilter{SourceID: a, Status: "completed", From: day(2)}},
		{"date range", projections.OperationFilter{From: day(2), To: day(3)}},
		{"up to a day", projections.OperationFilter{To: day(2)}},
		{"page 2", projections.OperationFilter{Page: 2, PerPage: 4}},
		{"page 3, filtered", projections.OperationFilter{Kind: "backup", Page: 3, PerPage: 4}},
		{"past the end", projections.OperationFilter{Page: 9, PerPage: 4}},
		{"nothing matches", projections.OperationFilter{SourceID: uuid.New()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, total, totals, err := e.queries.ListOperations(e.ctx, tt.filter)
			require.NoError(t, err)
			wantIDs, wantTotal, wantTotals := expectOperations(facts, tt.filter)
			gotIDs := make([]uuid.UUID, len(items))
			for i, it := range items {
				gotIDs[i] = it.ID
			}
			require.Equal(t, wantIDs, gotIDs)
			require.Equal(t, wantTotal, total)
			require.Equal(t, wantTotals, totals)
		})
	}

	// Spot checks of the figures themselves.
	_, total, totals, err := e.queries.ListOperations(e.ctx, projections.OperationFilter{SourceID: a, Status: "completed", From: day(2)})
	require.NoError(t, err)
	require.Equal(t, int64(3), total)
	require.Equal(t, map[string]int64{"pending": 0, "running": 1, "paused": 0, "interrupted": 0, "completed": 3, "failed": 0, "cancelled": 0}, totals)

	to, err := projections.ParseTimeBound("2026-11-21", true)
	require.NoError(t, err)
	items, total, _, err := e.queries.ListOperations(e.ctx, projections.OperationFilter{To: to})
	require.NoError(t, err)
	require.Equal(t, int64(7), total, "?to=2026-11-21 includes that day")
	require.Equal(t, "alice@example.test", items[0].RequestedBy)

	for _, bad := range []projections.OperationFilter{{Status: "sleeping"}, {Kind: "copy"}, {From: day(3), To: day(2)}} {
		_, _, _, err := e.queries.ListOperations(e.ctx, bad)
		de, ok := domain.AsError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, domain.KindInvalid, de.Kind)
	}
}

// expectOperations computes, from what the test wrote, what a filter must
// answer.
func expectOperations(facts []opFact, f projections.OperationFilter) ([]uuid.UUID, int64, map[string]int64) {
	page, perPage := projections.NormalizePage(f.Page, f.PerPage)
	totals := map[string]int64{}
	for _, s := range domain.AllOperationStatuses {
		totals[string(s)] = 0
	}
	var matched []opFact
	for _, o := range facts {
		if f.Kind != "" && string(o.kind) != f.Kind ||
			f.SourceID != uuid.Nil && o.source != f.SourceID ||
			f.From != nil && o.requestedAt.Before(*f.From) ||
			f.To != nil && !o.requestedAt.Before(*f.To) {
			continue
		}
		totals[string(o.status)]++
		if f.Status != "" && string(o.status) != f.Status {
			continue
		}
		matched = append(matched, o)
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].requestedAt.After(matched[j].requestedAt) })
	ids := []uuid.UUID{}
	for i := (page - 1) * perPage; i < len(matched) && i < page*perPage; i++ {
		ids = append(ids, matched[i].id)
	}
	return ids, int64(len(matched)), totals
}

func TestParseTimeBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		end  bool
		want string
		err  bool
	}{
		{"", false, "", false},
		{"2026-11-27", false, "2026-11-27T00:00:00Z", false},
		{"2026-11-27", true, "2026-11-28T00:00:00Z", false},
		{"2026-11-27T10:30:00Z", true, "2026-11-27T10:30:00Z", false},
		{"2026-11-27T10:30:00+02:00", false, "2026-11-27T08:30:00Z", false},
		{"27/11/2026", false, "", true},
	}
	for _, tt := range tests {
		got, err := projections.ParseTimeBound(tt.in, tt.end)
		if tt.err {
			require.ErrorContains(t, err, "neither a date")
			continue
		}
		require.NoError(t, err)
		if tt.want == "" {
			require.Nil(t, got)
			continue
		}
		require.Equal(t, tt.want, got.UTC().Format(time.RFC3339), tt.in)
	}
}
