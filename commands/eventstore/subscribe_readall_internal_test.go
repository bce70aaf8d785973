package eventstore

import (
	"testing"
	"time"

	"backupd/commands"
	"backupd/domain"
	"backupd/executors/testsupport/peers"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// Small pages make the paging of $all reads cross page boundaries, with
// system events (stream metadata) between and after the application's.
func TestReadAllPagesAcrossSystemEvents(t *testing.T) {
	t.Parallel()
	url, _ := peers.PrivateESDB(t)
	store, err := Connect(url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	ctx := peers.Context(t)

	metadata := func(n int) {
		for i := 0; i < n; i++ {
			_, err := store.client.SetStreamMetadata(ctx, "meta-"+uuid.NewString(), esdb.AppendToStreamOptions{}, esdb.StreamMetadata{})
			require.NoError(t, err)
		}
	}
	var want []uuid.UUID
	op := uuid.New()
	for i := 0; i < 7; i++ {
		_, err := store.Append(commands.WithMeta(ctx, commands.Meta{}), commands.OperationStream(op), Any(),
			domain.OperationPauseRequested{OperationID: op, At: time.Now()})
		require.NoError(t, err)
		last, _, err := store.ReadLast(ctx, commands.OperationStream(op))
		require.NoError(t, err)
		want = append(want, last.ID)
		metadata(i % 3)
	}
	lastApp, _, err := store.ReadLast(ctx, commands.OperationStream(op))
	require.NoError(t, err)
	metadata(8) // more system events at the end than a page holds

	for _, page := range []uint64{2, 3, 5, 512} {
		end, ok, err := store.lastEventPosition(ctx, page)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, lastApp.Position, end, "page %d", page)

		var got []uuid.UUID
		require.NoError(t, store.readAllEvents(ctx, nil, end, page, func(r Recorded) error {
			got = append(got, r.ID)
			return nil
		}))
		require.Equal(t, want, got, "page %d", page)
	}

	// An empty $all (but for the server's own events) has no last event.
	emptyURL, _ := peers.PrivateESDB(t)
	empty, err := Connect(emptyURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = empty.Close() })
	_, ok, err := empty.lastEventPosition(ctx, 2)
	require.NoError(t, err)
	require.False(t, ok)
}
