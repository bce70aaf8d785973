package commands_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/executors/testsupport/peers"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

const goodPassword = "correct horse battery"

func uniqueEmail() string { return peers.RandomName("admin-") + "@example.test" }

func (f *fixture) register(email, password string) uuid.UUID {
	f.t.Helper()
	id, err := f.h.RegisterUser.Handle(f.ctx(), commands.RegisterUser{Email: email, Name: "Admin", Password: password})
	require.NoError(f.t, err)
	return id
}

func TestRegisterUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	email := uniqueEmail()
	id := f.register("  "+strings.ToUpper(email)+" ", goodPassword)

	evs := f.events(commands.UserStream(id))
	require.Len(t, evs, 1)
	reg := evs[0].Event.(domain.UserRegistered)
	require.Equal(t, email, reg.Email, "stored normalised")
	require.Equal(t, "admin", reg.Role)
	require.NotContains(t, string(evs[0].Data), goodPassword)
	cost, err := bcrypt.Cost([]byte(reg.PasswordHash))
	require.NoError(t, err)
	require.Equal(t, commands.PasswordCost, cost)
	require.Equal(t, 12, cost)
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(reg.PasswordHash), []byte(goodPassword)))
	require.Equal(t, f.actor, evs[0].Meta.ActorID, "the actor is in the event metadata")

	res := f.events(commands.UserEmailStream(email))
	require.Len(t, res, 1)
	require.Equal(t, domain.UserEmailReserved{UserID: id, Email: email, At: f.clock.Now()}, res[0].Event)

	t.Run("refusals write nothing", func(t *testing.T) {
		other := uniqueEmail()
		for _, tc := range []struct {
			name, email, userName, password, slug, field string
		}{
			{"short password", other, "Bob", "short", "password-too-short", "password"},
			{"long password", other, "Bob", strings.Repeat("x", 73), "password-too-long", "password"},
			{"bad e-mail", "not-an-address", "Bob", goodPassword, "email-invalid", "email"},
			{"no name", other, "  ", goodPassword, "name-required", "name"},
			{"taken, other case", strings.ToUpper(email), "Bob", goodPassword, "email-taken", "email"},
		} {
			_, err := f.h.RegisterUser.Handle(f.ctx(), commands.RegisterUser{Email: tc.email, Name: tc.userName, Password: tc.password})
			requireSlug(t, err, tc.slug, tc.field)
		}
		require.Empty(t, f.events(commands.UserEmailStream(other)), "no reservation left behind")
		require.Empty(t, f.events(commands.UserEmailStream("not-an-address")))
		require.Len(t, f.events(commands.UserEmailStream(email)), 1)
	})
}

func TestRegisterUserEmailRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	email := uniqueEmail()
	const racers = 4
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		ids   [racers]uuid.UUID
		errs  [racers]error
	)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ids[i], errs[i] = f.h.RegisterUser.Handle(f.ctx(), commands.RegisterUser{Email: email, Name: "Racer", Password: goodPassword})
		}()
	}
	close(start)
	wg.Wait()
	var winner uuid.UUID
	for i := range racers {
		if errs[i] == nil {
			require.Equal(t, uuid.Nil, winner, "two registrations of one e-mail succeeded")
			winner = ids[i]
			continue
		}
		require.ErrorIs(t, errs[i], domain.ErrEmailTaken)
	}
	require.NotEqual(t, uuid.Nil, winner, "nobody won")
	res := f.events(commands.UserEmailStream(email))
	require.Len(t, res, 1)
	require.Equal(t, winner, res[0].Event.(domain.UserEmailReserved).UserID)
	for i := range racers {
		if ids[i] != winner && ids[i] != uuid.Nil {
			t.Fatalf("loser %d returned an id", i)
		}
	}
	u, err := f.h.Login.Handle(f.ctx(), commands.Login{Email: email, Password: goodPassword})
	require.NoError(t, err)
	require.Equal(t, winner, u.ID)
}

func TestRegisterTakesOverAnAbandonedReservation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	email := uniqueEmail()
	// A registration that died between its two appends left this behind.
	ghost := uuid.New()
	_, err := f.store.Append(f.ctx(), commands.UserEmailStream(email), eventstore.Revision(-1),
		domain.UserEmailReserved{UserID: ghost, Email: email, At: f.clock.Now()})
	require.NoError(t, err)

	// While it may still be a registration in progress, the address is taken
	// and nobody can log in with it.
	_, err = f.h.RegisterUser.Handle(f.ctx(), commands.RegisterUser{Email: email, Name: "Admin", Password: goodPassword})
	require.ErrorIs(t, err, domain.ErrEmailTaken)
	_, err = f.h.Login.Handle(f.ctx(), commands.Login{Email: email, Password: goodPassword})
	require.ErrorIs(t, err, domain.ErrInvalidCredentials)

	f.clock.Advance(3 * time.Minute)
	id := f.register(email, goodPassword)
	require.NotEqual(t, ghost, id)
	u, err := f.h.Login.Handle(f.ctx(), commands.Login{Email: email, Password: goodPassword})
	require.NoError(t, err)
	require.Equal(t, id, u.ID)

	// A live user's reservation is never taken over, however old.
	f.clock.Advance(24 * time.Hour)
	_, err = f.h.RegisterUser.Handle(f.ctx(), commands.RegisterUser{Email: email, Name: "Admin", Password: goodPassword})
	require.ErrorIs(t, err, domain.ErrEmailTaken)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	email := uniqueEmail()
	id := f.register(email, goodPassword)

	u, err := f.h.Login.Handle(f.ctx(), commands.Login{Email: strings.ToUpper(email), Password: goodPassword, IP: "198.51.100.1", UserAgent: "test-agent"})
	require.NoError(t, err)
	require.Equal(t, id, u.ID)
	require.Equal(t, email, u.Email)

	_, err = f.h.Login.Handle(f.ctx(), commands.Login{Email: email, Password: "wrong password!", IP: "198.51.100.2"})
	require.ErrorIs(t, err, domain.ErrInvalidCredentials)

	unknown := uniqueEmail()
	_, err = f.h.Login.Handle(f.ctx(), commands.Login{Email: unknown, Password: goodPassword})
	require.ErrorIs(t, err, domain.ErrInvalidCredentials, "an unknown e-mail gets the same answer")
	require.Empty(t, f.events(commands.UserEmailStream(unknown)))

	evs := f.events(commands.UserStream(id))
	require.Equal(t, []string{"UserRegistered.v1", "UserLoggedIn.v1", "UserLoginFailed.v1"}, f.eventTypes(commands.UserStream(id)))
	require.Equal(t, domain.UserLoggedIn{UserID: id, IP: "198.51.100.1", UserAgent: "test-agent", At: f.clock.Now()}, evs[1].Event)
	require.Equal(t, domain.UserLoginFailed{UserID: id, IP: "198.51.100.2", Reason: "wrong-password", At: f.clock.Now()}, evs[2].Event)
	for _, e := range evs {
		require.NotContains(t, string(e.Data), "wrong password!")
	}
	logs := f.logs.String()
	require.Contains(t, logs, "command=Login")
	require.Contains(t, logs, "error=invalid-credentials")
	for _, secret := range []string{goodPassword, "wrong password!", email} {
		require.Falsef(t, strings.Contains(logs, secret), "the log holds an input value")
	}
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	email := uniqueEmail()
	id := f.register(email, goodPassword)

	for i := range domain.MaxFailedLogins {
		_, err := f.h.Login.Handle(f.ctx(), commands.Login{Email: email, Password: "not the password", IP: "203.0.113.9"})
		require.ErrorIs(t, err, domain.ErrInvalidCredentials, "attempt %d", i+1)
		f.clock.Advance(time.Second)
	}
	_, err := f.h.Login.Handle(f.ctx(), commands.Login{Email: email, Password: goodPassword, IP: "203.0.113.9"})
	require.ErrorIs(t, err, domain.ErrLoginThrottled, "throttled even with the right password")

	var reasons []string
	for _, r := range f.events(commands.UserStream(id)) {
		if e, ok := r.Event.(domain.UserLoginFailed); ok {
			reasons = append(reasons, e.Reason)
		}
	}
	require.Equal(t, []string{"wrong-password", "wrong-password", "wrong-password", "wrong-password", "wrong-password", "throttled"}, reasons,
		"each refusal is stored although the command failed")

	f.clock.Advance(domain.FailedLoginWindow)
	u, err := f.h.Login.Handle(f.ctx(), commands.Login{Email: email, Password: goodPassword})
	require.NoError(t, err, "the window has passed")
	require.Equal(t, id, u.ID)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.register(uniqueEmail(), goodPassword)
	_, err := f.h.Logout.Handle(f.ctx(), commands.Logout{UserID: id, Reason: commands.LogoutIdleTimeout})
	require.NoError(t, err)
	_, err = f.h.Logout.Handle(f.ctx(), commands.Logout{UserID: id, Reason: commands.LogoutByUser})
	require.NoError(t, err)
	evs := f.events(commands.UserStream(id))
	require.Len(t, evs, 3)
	require.Equal(t, "idle-timeout", evs[1].Event.(domain.UserLoggedOut).Reason)
	require.Equal(t, "logout", evs[2].Event.(domain.UserLoggedOut).Reason)

	_, err = f.h.Logout.Handle(f.ctx(), commands.Logout{UserID: id, Reason: "bored"})
	requireSlug(t, err, "logout-reason-invalid", "reason")
	_, err = f.h.Logout.Handle(f.ctx(), commands.Logout{UserID: uuid.New(), Reason: commands.LogoutByUser})
	requireSlug(t, err, "user-not-found", "")
	require.Len(t, f.events(commands.UserStream(id)), 3)
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	email := uniqueEmail()
	id := f.register(email, goodPassword)

	res, err := f.h.RequestPasswordReset.Handle(f.ctx(), commands.RequestPasswordReset{Email: strings.ToUpper(email)})
	require.NoError(t, err)
	require.Equal(t, id, res.User.ID)
	idPart, secret, ok := strings.Cut(res.Token, ".")
	require.True(t, ok)
	require.Equal(t, id.String(), idPart)
	require.Len(t, secret, 43, "32 bytes, base64url without padding")

	// Only the token's SHA-256 is stored.
	evs := f.events(commands.UserStream(id))
	req := evs[len(evs)-1].Event.(domain.PasswordResetRequested)
	sum := sha256.Sum256([]byte(res.Token))
	require.Equal(t, hex.EncodeToString(sum[:]), req.TokenHash)
	require.Equal(t, f.clock.Now().Add(60*time.Minute), req.ExpiresAt, "default TTL")
	require.NotContains(t, string(evs[len(evs)-1].Data), secret)

	t.Run("unknown e-mail answers the same", func(t *testing.T) {
		none, err := f.h.RequestPasswordReset.Handle(f.ctx(), commands.RequestPasswordReset{Email: uniqueEmail()})
		require.NoError(t, err)
		require.Empty(t, none.Token)
		require.Nil(t, none.User)
	})

	for _, bad := range []string{"", "garbage", id.String(), id.String() + ".short", uuid.NewString() + "." + secret, id.String() + "." + strings.Repeat("A", 43)} {
		_, err := f.h.ResetPassword.Handle(f.ctx(), commands.ResetPassword{Token: bad, Password: "a brand new password"})
		require.ErrorIs(t, err, domain.ErrResetTokenInvalid, "token %q", bad)
	}
	_, err = f.h.ResetPassword.Handle(f.ctx(), commands.ResetPassword{Token: res.Token, Password: "short"})
	requireSlug(t, err, "password-too-short", "password")

	_, err = f.h.ResetPassword.Handle(f.ctx(), commands.ResetPassword{Token: res.Token, Password: "a brand new password"})
	require.NoError(t, err)
	_, err = f.h.Login.Handle(f.ctx(), commands.Login{Email: email, Password: goodPassword})
	require.ErrorIs(t, err, domain.ErrInvalidCredentials, "the old password is gone")
	_, err = f.h.Login.Handle(f.ctx(), commands.Login{Email: email, Password: "a brand new password"})
	require.NoError(t, err)

	_, err = f.h.ResetPassword.Handle(f.ctx(), commands.ResetPassword{Token: res.Token, Password: "yet another password"})
	require.ErrorIs(t, err, domain.ErrResetTokenInvalid, "a token works once")

	t.Run("expiry", func(t *testing.T) {
		res, err := f.h.RequestPasswordReset.Handle(f.ctx(), commands.RequestPasswordReset{Email: email})
		require.NoError(t, err)
		f.clock.Advance(60*time.Minute + time.Second)
		_, err = f.h.ResetPassword.Handle(f.ctx(), commands.ResetPassword{Token: res.Token, Password: "yet another password"})
		require.ErrorIs(t, err, domain.ErrResetTokenInvalid)
	})

	t.Run("a newer token replaces the older", func(t *testing.T) {
		first, err := f.h.RequestPasswordReset.Handle(f.ctx(), commands.RequestPasswordReset{Email: email})
		require.NoError(t, err)
		second, err := f.h.RequestPasswordReset.Handle(f.ctx(), commands.RequestPasswordReset{Email: email})
		require.NoError(t, err)
		require.NotEqual(t, first.Token, second.Token)
		_, err = f.h.ResetPassword.Handle(f.ctx(), commands.ResetPassword{Token: first.Token, Password: "yet another password"})
		require.ErrorIs(t, err, domain.ErrResetTokenInvalid)
		_, err = f.h.ResetPassword.Handle(f.ctx(), commands.ResetPassword{Token: second.Token, Password: "yet another password"})
		require.NoError(t, err)
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	email := uniqueEmail()
	id := f.register(email, goodPassword)

	_, err := f.h.ChangePassword.Handle(f.ctx(), commands.ChangePassword{UserID: id, CurrentPassword: "not it at all", NewPassword: "another good password"})
	require.ErrorIs(t, err, commands.ErrCurrentPasswordWrong)
	requireSlug(t, err, "current-password-wrong", "current_password")
	_, err = f.h.ChangePassword.Handle(f.ctx(), commands.ChangePassword{UserID: id, CurrentPassword: goodPassword, NewPassword: "short"})
	requireSlug(t, err, "password-too-short", "password")
	_, err = f.h.ChangePassword.Handle(f.ctx(), commands.ChangePassword{UserID: uuid.New(), CurrentPassword: goodPassword, NewPassword: "another good password"})
	requireSlug(t, err, "user-not-found", "")
	require.Len(t, f.events(commands.UserStream(id)), 1, "refusals store nothing")

	u, err := f.h.ChangePassword.Handle(f.ctx(), commands.ChangePassword{UserID: id, CurrentPassword: goodPassword, NewPassword: "another good password"})
	require.NoError(t, err)
	require.Equal(t, id, u.ID)
	_, err = f.h.Login.Handle(f.ctx(), commands.Login{Email: email, Password: "another good password"})
	require.NoError(t, err)
	_, err = f.h.Login.Handle(f.ctx(), commands.Login{Email: email, Password: goodPassword})
	require.ErrorIs(t, err, domain.ErrInvalidCredentials)
}
