package eventstore_test

import (
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/executors/testsupport/peers"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestSaveLoadAndConcurrency(t *testing.T) {
	t.Parallel()
	store, err := eventstore.Connect(peers.ESDB(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	ctx := commands.WithMeta(peers.Context(t), commands.Meta{ActorID: "u1", ActorName: "alice@example.test"})

	id := uuid.New()
	stream := commands.UserStream(id)
	u := domain.NewUser(id)
	require.NoError(t, u.Register("Alice@Example.test", "Alice", "hash", time.Now()))
	require.NoError(t, store.Save(ctx, stream, u))
	require.Equal(t, int64(0), u.Version())

	loaded := domain.NewUser(id)
	require.NoError(t, store.Load(ctx, stream, loaded))
	require.True(t, loaded.Exists())
	require.Equal(t, "alice@example.test", loaded.Email)
	require.Equal(t, int64(0), loaded.Version())

	// Two writers loaded at the same revision: the second append conflicts.
	a, b := domain.NewUser(id), domain.NewUser(id)
	require.NoError(t, store.Load(ctx, stream, a))
	require.NoError(t, store.Load(ctx, stream, b))
	require.NoError(t, a.Login(true, "127.0.0.1", "test", time.Now()))
	require.NoError(t, b.Login(true, "127.0.0.1", "test", time.Now()))
	require.NoError(t, store.Save(commands.WithMeta(ctx, commands.Meta{}), stream, a))
	err = store.Save(commands.WithMeta(ctx, commands.Meta{}), stream, b)
	require.ErrorIs(t, err, domain.ErrConcurrentUpdate)

	// Update retries on conflict by reloading.
	_, err = commands.Update(ctx, store, stream, func() *domain.User { return domain.NewUser(id) }, func(u *domain.User) error {
		u.Logout("logout", time.Now())
		return nil
	})
	require.NoError(t, err)

	var types []string
	var meta eventstore.Metadata
	require.NoError(t, store.Read(ctx, stream, 0, func(r eventstore.Recorded) error {
		types = append(types, r.Type)
		meta = r.Meta
		return nil
	}))
	require.Equal(t, []string{"UserRegistered.v1", "UserLoggedIn.v1", "UserLoggedOut.v1"}, types)
	require.Equal(t, "u1", meta.ActorID)
	require.NotEqual(t, uuid.Nil, meta.CorrelationID)

	last, ok, err := store.ReadLast(ctx, stream)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(2), last.Revision)

	_, ok, err = store.ReadLast(ctx, "user-"+uuid.NewString())
	require.NoError(t, err)
	require.False(t, ok)
}

func TestRetriedAppendIsDeduplicated(t *testing.T) {
	t.Parallel()
	store, err := eventstore.Connect(peers.ESDB(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	ctx := commands.WithMeta(peers.Context(t), commands.Meta{})
	stream := "operationlog-" + uuid.NewString()
	ev := domain.OperationLogged{OperationID: uuid.New(), Lines: []domain.LogLine{{Seq: 1, At: time.Now(), Level: "info", Message: "hello"}}}
	_, err = store.Append(ctx, stream, eventstore.Revision(-1), ev)
	require.NoError(t, err)
	// Same command id, same expected revision: the server answers success
	// without writing twice.
	_, err = store.Append(ctx, stream, eventstore.Revision(-1), ev)
	require.NoError(t, err)
	n := 0
	require.NoError(t, store.Read(ctx, stream, 0, func(eventstore.Recorded) error { n++; return nil }))
	require.Equal(t, 1, n)
}
