package commands_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"backupd/commands"
	"backupd/domain"
	"backupd/executors/testsupport/peers"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestRequestBackupRacesDelete runs RequestBackup and DeleteConnection of its
// source at the same time, many times: whichever wins, a deleted connection
// never ends up attached to an active operation, and a refused backup leaves
// no reservation behind.
func TestRequestBackupRacesDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	outcomes := map[string]int{}
	for round := range 16 {
		src, dst := f.backupPair()
		victim := src.ID
		if round%2 == 1 {
			victim = dst.ID
		}
		var (
			wg               sync.WaitGroup
			start            = make(chan struct{})
			opID             uuid.UUID
			backupErr, delEr error
		)
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			opID, backupErr = f.h.RequestBackup.Handle(f.ctx(), commands.RequestBackup{SourceID: src.ID, DestinationID: dst.ID})
		}()
		go func() {
			defer wg.Done()
			<-start
			// Staggered starts give both orders a chance; the outcome is
			// checked whatever it is.
			time.Sleep(time.Duration(round%4) * 700 * time.Microsecond)
			_, delEr = f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: victim})
		}()
		close(start)
		wg.Wait()

		victimNow := f.connection(victim)
		switch {
		case backupErr == nil:
			require.ErrorIs(t, delEr, domain.ErrConnectionInUse, "round %d: backup won, the delete must be refused", round)
			require.False(t, victimNow.Deleted)
			require.Equal(t, 1, victimNow.ActiveOperations())
			require.Equal(t, domain.OpPending, f.operation(opID).Status)
			outcomes["backup won"]++
		case delEr == nil:
			require.ErrorIs(t, backupErr, domain.ErrConnectionDeleted, "round %d: delete won, the backup must be refused", round)
			require.True(t, victimNow.Deleted)
			outcomes["delete won"]++
		default:
			t.Fatalf("round %d: both failed: backup %v, delete %v", round, backupErr, delEr)
		}
		for _, id := range []uuid.UUID{src.ID, dst.ID} {
			c := f.connection(id)
			require.False(t, c.Deleted && c.ActiveOperations() > 0, "round %d: a deleted connection is attached", round)
			if backupErr != nil {
				require.Zero(t, c.ActiveOperations(), "round %d: a refused backup released its reservations", round)
			}
		}
	}
	t.Logf("outcomes: %v", outcomes)
}

// TestDeleteBetweenAttachDecisionAndAppend puts the delete exactly between
// RequestBackup's decision to attach the destination and its append: the
// append conflicts, the reload sees the deletion, the backup is refused and
// the source's reservation is released.
func TestDeleteBetweenAttachDecisionAndAppend(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.backupPair()
	h, hs := f.hooked()
	deleted := false
	hs.before(commands.ConnectionStream(dst.ID), func() {
		_, err := f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: dst.ID})
		require.NoError(t, err)
		deleted = true
	})
	_, err := h.RequestBackup.Handle(f.ctx(), commands.RequestBackup{SourceID: src.ID, DestinationID: dst.ID})
	require.True(t, deleted, "the hook ran")
	requireSlug(t, err, "connection-deleted", "destination_id")

	require.Zero(t, f.connection(dst.ID).ActiveOperations())
	require.Zero(t, f.connection(src.ID).ActiveOperations(), "the source's reservation was released")
	srcEvents := f.events(commands.ConnectionStream(src.ID))
	attached := srcEvents[len(srcEvents)-2].Event.(domain.ConnectionOperationAttached)
	detached := srcEvents[len(srcEvents)-1].Event.(domain.ConnectionOperationDetached)
	require.Equal(t, attached.OperationID, detached.OperationID)
	require.Equal(t, srcEvents[len(srcEvents)-2].Meta.CommandID, srcEvents[len(srcEvents)-1].Meta.CausationID, "the release is caused by the failed request")
	require.Empty(t, f.events(commands.OperationStream(attached.OperationID)), "no operation was created")
}

// TestBackupBetweenDeleteDecisionAndAppend is the other order: the backup's
// reservation lands between the delete's decision and its append, and the
// delete is refused after reloading.
func TestBackupBetweenDeleteDecisionAndAppend(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.backupPair()
	h, hs := f.hooked()
	var opID uuid.UUID
	hs.before(commands.ConnectionStream(src.ID), func() { opID = f.requestBackup(src.ID, dst.ID) })
	_, err := h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: src.ID})
	require.ErrorIs(t, err, domain.ErrConnectionInUse)
	require.NotEqual(t, uuid.Nil, opID)
	c := f.connection(src.ID)
	require.False(t, c.Deleted)
	require.Equal(t, 1, c.ActiveOperations())
}

// TestClaimRace: workers claim the same operation at the same time; exactly
// one wins, the others get a transition or concurrency error. The racers
// also share one command id, as workers handed the same event might.
func TestClaimRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.backupPair()
	const workers = 3
	for round := range 8 {
		id := f.requestBackup(src.ID, dst.ID)
		shared := f.ctx()
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  [workers]error
		)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := f.ctx()
				if round%2 == 0 {
					ctx = shared
				}
				<-start
				_, errs[w] = f.h.ClaimOperation.Handle(ctx, commands.ClaimOperation{ID: id, WorkerID: workerName(w)})
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "round %d: two workers claimed one operation", round)
				winner = w
				continue
			}
			require.Truef(t, errors.Is(err, domain.ErrInvalidTransition) || errors.Is(err, domain.ErrConcurrentUpdate), "round %d: %v", round, err)
		}
		require.NotEqual(t, -1, winner, "round %d: nobody claimed", round)
		op := f.operation(id)
		require.Equal(t, workerName(winner), op.WorkerID)
		require.Equal(t, 1, op.Attempt)
		started := 0
		for _, e := range f.events(commands.OperationStream(id)) {
			if _, ok := e.Event.(domain.OperationStarted); ok {
				started++
			}
		}
		require.Equal(t, 1, started, "round %d: one start event", round)
	}
}

func workerName(i int) string { return "worker-" + string(rune('a'+i)) }

// TestUpdateRefusesWhenCredentialsChangedDuringItsCheck: an edit whose check
// ran against credentials someone else replaced meanwhile is refused with a
// conflict rather than stored unchecked.
func TestUpdateRefusesWhenCredentialsChangedDuringItsCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := s3Input(domain.KindS3Source, peers.RandomName("edit-"))
	c := f.create(in)
	h, hs := f.hooked()
	hs.before(commands.ConnectionStream(c.ID), func() {
		_, err := f.h.UpdateConnection.Handle(f.ctx(), commands.UpdateConnection{ID: c.ID, Name: "Theirs", Settings: in.Settings,
			Secrets: map[string]string{"secret_access_key": "theirs"}})
		require.NoError(t, err)
	})
	_, err := h.UpdateConnection.Handle(f.ctx(), commands.UpdateConnection{ID: c.ID, Name: "Mine", Settings: in.Settings})
	require.ErrorIs(t, err, domain.ErrConcurrentUpdate)
	stored := f.connection(c.ID)
	require.Equal(t, "Theirs", stored.Name)
	plain, err := commands.OpenSecrets(f.keyring, stored)
	require.NoError(t, err)
	require.Equal(t, "theirs", plain["secret_access_key"])
}

// TestCheckSurvivesATokenRefreshDuringIt: the Drive client refreshing the
// access token while a re-check runs does not make the check stale.
func TestCheckSurvivesATokenRefreshDuringIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	folder := peers.RandomName("Race ")
	c := f.create(commands.CreateConnection{Kind: domain.KindDriveDestination, Name: "Drive",
		Settings: map[string]string{"folder_name": folder}, Secrets: map[string]string{"refresh_token": "rt", "access_token": "at-1"}})
	f.checker.script(folder, func(_, _ map[string]string) commands.CheckResult {
		return commands.CheckResult{Check: domain.Check{OK: false, Field: "folder_name", Reason: "File not found."}}
	})
	h, hs := f.hooked()
	hs.before(commands.ConnectionStream(c.ID), func() {
		_, err := f.h.RefreshConnectionTokens.Handle(f.ctx(), commands.RefreshConnectionTokens{ID: c.ID, AccessToken: "at-2", Expiry: f.clock.Now().Add(time.Hour)})
		require.NoError(t, err)
	})
	got, err := h.CheckConnection.Handle(f.ctx(), commands.CheckConnection{ID: c.ID})
	require.NoError(t, err)
	require.Equal(t, domain.StatusInvalid, got.Status)
	plain, err := commands.OpenSecrets(f.keyring, f.connection(c.ID))
	require.NoError(t, err)
	require.Equal(t, "at-2", plain["access_token"])
}
