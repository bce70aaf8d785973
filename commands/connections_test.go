package commands_test

import (
	"strings"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/secrets"
	"backupd/domain"
	"backupd/executors/testsupport/peers"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestCreateConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := s3Input(domain.KindS3Source, peers.RandomName("create-"))
	c, err := f.h.CreateConnection.Handle(f.ctx(), in)
	require.NoError(t, err)
	require.NotEqual(t, uuid.Nil, c.ID)
	require.Equal(t, domain.StatusValid, c.Status)
	require.Equal(t, f.clock.Now(), c.CheckedAt)

	calls := f.checker.callsWith(in.Settings["bucket"])
	require.Len(t, calls, 1)
	require.Equal(t, in.Secrets, calls[0].Secrets, "the checker connects with the plaintext")
	require.Equal(t, in.Settings, calls[0].Settings)

	stored := f.connection(c.ID)
	require.Equal(t, in.Settings, stored.Settings)
	require.Equal(t, "k1", stored.Secrets["secret_access_key"].KeyID)
	plain, err := commands.OpenSecrets(f.keyring, stored)
	require.NoError(t, err)
	require.Equal(t, in.Secrets, plain)
	require.Equal(t, map[string]string{"checked": "yes"}, stored.Details)
	require.Equal(t, []string{"ConnectionCreated.v1", "ConnectionChecked.v1"}, f.eventTypes(commands.ConnectionStream(c.ID)))

	t.Run("chosen id", func(t *testing.T) {
		in := mongoInput(peers.RandomName("db"))
		in.ID = uuid.New()
		c, err := f.h.CreateConnection.Handle(f.ctx(), in)
		require.NoError(t, err)
		require.Equal(t, in.ID, c.ID)
		_, err = f.h.CreateConnection.Handle(f.ctx(), in)
		requireSlug(t, err, "connection-exists", "")
	})
}

func TestCreateConnectionRefusesBadInputWithoutConnecting(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bucket := peers.RandomName("bad-")
	base := s3Input(domain.KindS3Source, bucket)
	with := func(mut func(*commands.CreateConnection)) commands.CreateConnection {
		in := base
		in.Settings = clone(base.Settings)
		in.Secrets = clone(base.Secrets)
		mut(&in)
		return in
	}
	for _, tc := range []struct {
		name, slug, field string
		in                commands.CreateConnection
	}{
		{"unknown kind", "kind-unknown", "kind", with(func(in *commands.CreateConnection) { in.Kind = "ftp_source" })},
		{"no name", "name-required", "name", with(func(in *commands.CreateConnection) { in.Name = " " })},
		{"missing secret", "field-required", "secret_access_key", with(func(in *commands.CreateConnection) { in.Secrets = nil })},
		{"blank secret", "field-required", "secret_access_key", with(func(in *commands.CreateConnection) { in.Secrets["secret_access_key"] = "" })},
		{"missing region", "field-required", "region", with(func(in *commands.CreateConnection) { delete(in.Settings, "region") })},
		{"bad endpoint", "endpoint-invalid", "endpoint", with(func(in *commands.CreateConnection) { in.Settings["endpoint"] = "ftp://x" })},
		{"secret sent as setting", "secret-in-settings", "secret_access_key", with(func(in *commands.CreateConnection) { in.Settings["secret_access_key"] = "x" })},
		{"unknown secret", "field-unknown", "token", with(func(in *commands.CreateConnection) { in.Secrets["token"] = "x" })},
		{"setting sent as secret", "not-a-secret", "region", with(func(in *commands.CreateConnection) { in.Secrets["region"] = "x" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.h.CreateConnection.Handle(f.ctx(), tc.in)
			requireSlug(t, err, tc.slug, tc.field)
			require.NotContains(t, err.Error(), "sk-"+bucket, "errors never echo a secret")
		})
	}
	require.Empty(t, f.checker.callsWith(bucket), "bad input is refused before connecting")
}

func TestCreateConnectionWithFailingCheckStoresNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := s3Input(domain.KindS3Destination, peers.RandomName("denied-"))
	in.ID = uuid.New()
	f.checker.script(in.Settings["bucket"], func(_, _ map[string]string) commands.CheckResult {
		return commands.CheckResult{Check: domain.Check{OK: false, Field: "secret_access_key",
			Reason: "The request signature we calculated does not match the signature you provided."}}
	})
	_, err := f.h.CreateConnection.Handle(f.ctx(), in)
	de := requireSlug(t, err, "connection-check-failed", "secret_access_key")
	require.Equal(t, domain.KindInvalid, de.Kind)
	require.Contains(t, de.Message, "signature we calculated does not match")
	require.Empty(t, f.events(commands.ConnectionStream(in.ID)), "nothing stored")
	require.False(t, f.connection(in.ID).Exists())
}

func TestCreateConnectionStoresWhatTheCheckLearned(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	folder := peers.RandomName("Backups ")
	expiry := f.clock.Now().Add(time.Hour).Truncate(time.Second)
	f.checker.script(folder, func(settings, secrets map[string]string) commands.CheckResult {
		require.Equal(t, "refresh-plain-"+folder, secrets["refresh_token"])
		return commands.CheckResult{
			Check:    domain.Check{OK: true, Details: map[string]string{"account_email": "me@example.test"}},
			Settings: map[string]string{"folder_id": "folder-123", "account_email": "me@example.test", "token_expiry": expiry.Format(time.RFC3339)},
			Secrets:  map[string]string{"access_token": "access-refreshed-" + folder},
		}
	})
	c, err := f.h.CreateConnection.Handle(f.ctx(), commands.CreateConnection{
		Kind: domain.KindDriveDestination, Name: "Drive",
		Settings: map[string]string{"folder_name": folder},
		Secrets:  map[string]string{"refresh_token": "refresh-plain-" + folder, "access_token": "access-old-" + folder},
	})
	require.NoError(t, err)
	stored := f.connection(c.ID)
	require.Equal(t, map[string]string{"folder_name": folder, "folder_id": "folder-123", "account_email": "me@example.test", "token_expiry": expiry.Format(time.RFC3339)}, stored.Settings)
	plain, err := commands.OpenSecrets(f.keyring, stored)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"refresh_token": "refresh-plain-" + folder, "access_token": "access-refreshed-" + folder}, plain)
}

func TestUpdateConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bucket := peers.RandomName("upd-")
	c := f.create(mongoInput(bucket))
	before := f.connection(c.ID)

	t.Run("blank secrets keep their stored value", func(t *testing.T) {
		updated, err := f.h.UpdateConnection.Handle(f.ctx(), commands.UpdateConnection{
			ID: c.ID, Name: "Renamed",
			Settings: map[string]string{"database": bucket, "username": "backup", "auth_database": "admin"},
			Secrets:  map[string]string{"uri": "", "password": "new-pw-" + bucket},
		})
		require.NoError(t, err)
		require.Equal(t, "Renamed", updated.Name)
		calls := f.checker.callsWith(bucket)
		last := calls[len(calls)-1]
		require.Equal(t, map[string]string{"uri": "mongodb://admin:pw-" + bucket + "@127.0.0.1:1/?authSource=admin", "password": "new-pw-" + bucket}, last.Secrets,
			"the check ran with the stored secret plus the new one")

		stored := f.connection(c.ID)
		require.Equal(t, "Renamed", stored.Name)
		require.Equal(t, map[string]string{"database": bucket, "username": "backup", "auth_database": "admin"}, stored.Settings)
		require.Equal(t, before.Secrets["uri"], stored.Secrets["uri"], "the blank secret keeps its sealed value, unsealed nowhere")
		require.NotEqual(t, before.Secrets["password"], stored.Secrets["password"])
		plain, err := commands.OpenSecrets(f.keyring, stored)
		require.NoError(t, err)
		require.Equal(t, "new-pw-"+bucket, plain["password"])
	})

	t.Run("failed check stores nothing", func(t *testing.T) {
		n := len(f.events(commands.ConnectionStream(c.ID)))
		f.checker.script("wrong-db-"+bucket, func(_, _ map[string]string) commands.CheckResult {
			return commands.CheckResult{Check: domain.Check{OK: false, Field: "uri", Reason: "Authentication failed."}}
		})
		_, err := f.h.UpdateConnection.Handle(f.ctx(), commands.UpdateConnection{
			ID: c.ID, Name: "Renamed again", Settings: map[string]string{"database": "wrong-db-" + bucket}, Secrets: map[string]string{"uri": "mongodb://x@y/"},
		})
		requireSlug(t, err, "connection-check-failed", "uri")
		require.Len(t, f.events(commands.ConnectionStream(c.ID)), n)
		require.Equal(t, "Renamed", f.connection(c.ID).Name)
	})

	t.Run("bad input is refused before connecting", func(t *testing.T) {
		calls := len(f.checker.callsWith(bucket))
		_, err := f.h.UpdateConnection.Handle(f.ctx(), commands.UpdateConnection{ID: c.ID, Name: "", Settings: map[string]string{"database": bucket}})
		requireSlug(t, err, "name-required", "name")
		_, err = f.h.UpdateConnection.Handle(f.ctx(), commands.UpdateConnection{ID: c.ID, Name: "x", Settings: map[string]string{}})
		requireSlug(t, err, "field-required", "database")
		_, err = f.h.UpdateConnection.Handle(f.ctx(), commands.UpdateConnection{ID: c.ID, Name: "x", Settings: map[string]string{"database": bucket}, Secrets: map[string]string{"database": "x"}})
		requireSlug(t, err, "not-a-secret", "database")
		require.Len(t, f.checker.callsWith(bucket), calls)
	})

	t.Run("unknown and deleted", func(t *testing.T) {
		_, err := f.h.UpdateConnection.Handle(f.ctx(), commands.UpdateConnection{ID: uuid.New(), Name: "x"})
		requireSlug(t, err, "connection-not-found", "")
		gone := f.create(mongoInput(peers.RandomName("gone")))
		_, err = f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: gone.ID})
		require.NoError(t, err)
		_, err = f.h.UpdateConnection.Handle(f.ctx(), commands.UpdateConnection{ID: gone.ID, Name: "x", Settings: map[string]string{"database": "x"}})
		require.ErrorIs(t, err, domain.ErrConnectionDeleted)
	})
}

func TestUpdateConnectionKeepsManagedSettingsAndReseals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	folder := peers.RandomName("Managed ")
	c := f.create(commands.CreateConnection{
		Kind: domain.KindDriveDestination, Name: "Drive",
		Settings: map[string]string{"folder_name": folder, "folder_id": "f-1", "account_email": "a@example.test", "token_expiry": "2026-03-01T11:00:00Z"},
		Secrets:  map[string]string{"refresh_token": "rt-" + folder, "access_token": "at-" + folder},
	})
	// Rotate: a new key first, the old one still there to open.
	rotated, err := secrets.ParseKeyring(secrets.GenerateKeySpec("k2") + "," + keySpecOf(t, f))
	require.NoError(t, err)
	h2 := f.handlers(rotated)
	_, err = h2.UpdateConnection.Handle(f.ctx(), commands.UpdateConnection{ID: c.ID, Name: "Drive (renamed)", Settings: map[string]string{"folder_name": folder}})
	require.NoError(t, err)
	stored := f.connection(c.ID)
	require.Equal(t, map[string]string{"folder_name": folder, "folder_id": "f-1", "account_email": "a@example.test", "token_expiry": "2026-03-01T11:00:00Z"}, stored.Settings,
		"managed settings the form does not send are kept")
	for name, s := range stored.Secrets {
		require.Equal(t, "k2", s.KeyID, "%s resealed with the active key", name)
	}
	plain, err := commands.OpenSecrets(rotated, stored)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"refresh_token": "rt-" + folder, "access_token": "at-" + folder}, plain)
}

func TestCheckConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in := s3Input(domain.KindS3Source, peers.RandomName("chk-"))
	c := f.create(in)
	broken := true
	f.checker.script(in.Settings["bucket"], func(_, secrets map[string]string) commands.CheckResult {
		require.Equal(t, in.Secrets, secrets, "re-checked with the unsealed secrets")
		if broken {
			return commands.CheckResult{Check: domain.Check{OK: false, Field: "bucket", Reason: "The specified bucket does not exist"}}
		}
		return commands.CheckResult{Check: domain.Check{OK: true, Details: map[string]string{"objects": "3"}}}
	})
	f.clock.Advance(time.Minute)
	got, err := f.h.CheckConnection.Handle(f.ctx(), commands.CheckConnection{ID: c.ID})
	require.NoError(t, err, "a failed check is recorded, not returned")
	require.Equal(t, domain.StatusInvalid, got.Status)
	require.Equal(t, "The specified bucket does not exist", got.Reason)
	require.Equal(t, f.clock.Now(), got.CheckedAt)
	stored := f.connection(c.ID)
	require.Equal(t, domain.StatusInvalid, stored.Status)
	require.Equal(t, "The specified bucket does not exist", stored.Reason)

	broken = false
	got, err = f.h.CheckConnection.Handle(f.ctx(), commands.CheckConnection{ID: c.ID})
	require.NoError(t, err)
	require.Equal(t, domain.StatusValid, got.Status)
	require.Equal(t, map[string]string{"objects": "3"}, f.connection(c.ID).Details)
	require.Equal(t, []string{"ConnectionCreated.v1", "ConnectionChecked.v1", "ConnectionChecked.v1", "ConnectionChecked.v1"}, f.eventTypes(commands.ConnectionStream(c.ID)))

	_, err = f.h.CheckConnection.Handle(f.ctx(), commands.CheckConnection{ID: uuid.New()})
	requireSlug(t, err, "connection-not-found", "")
}

func TestCheckConnectionRecordsRefreshedTokensAndLearnedSettings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	folder := peers.RandomName("Tokens ")
	c := f.create(commands.CreateConnection{
		Kind: domain.KindDriveDestination, Name: "Drive",
		Settings: map[string]string{"folder_name": folder, "folder_id": "f-old"},
		Secrets:  map[string]string{"refresh_token": "rt-" + folder, "access_token": "at-old-" + folder},
	})
	expiry := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.checker.script(folder, func(_, secrets map[string]string) commands.CheckResult {
		return commands.CheckResult{
			Check:    domain.Check{OK: true},
			Settings: map[string]string{"folder_id": "f-new", "token_expiry": expiry.Format(time.RFC3339)},
			Secrets:  map[string]string{"access_token": "at-new-" + folder},
		}
	})
	_, err := f.h.CheckConnection.Handle(f.ctx(), commands.CheckConnection{ID: c.ID})
	require.NoError(t, err)
	stored := f.connection(c.ID)
	require.Equal(t, "f-new", stored.Settings["folder_id"], "a recreated folder's id is stored")
	require.Equal(t, expiry.Format(time.RFC3339), stored.Settings["token_expiry"])
	require.Equal(t, expiry, stored.TokenExpiry.UTC())
	plain, err := commands.OpenSecrets(f.keyring, stored)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"refresh_token": "rt-" + folder, "access_token": "at-new-" + folder}, plain)
	types := f.eventTypes(commands.ConnectionStream(c.ID))
	require.Equal(t, []string{"ConnectionUpdated.v1", "ConnectionChecked.v1", "ConnectionTokensRefreshed.v1"}, types[len(types)-3:])

	// A failed check still keeps a token it refreshed (it is valid).
	f.checker.script(folder, func(_, _ map[string]string) commands.CheckResult {
		return commands.CheckResult{
			Check:    domain.Check{OK: false, Field: "folder_name", Reason: "File not found: f-new."},
			Settings: map[string]string{"token_expiry": expiry.Add(time.Hour).Format(time.RFC3339)},
			Secrets:  map[string]string{"access_token": "at-newer-" + folder, "refresh_token": "rt-rotated-" + folder},
		}
	})
	got, err := f.h.CheckConnection.Handle(f.ctx(), commands.CheckConnection{ID: c.ID})
	require.NoError(t, err)
	require.Equal(t, domain.StatusInvalid, got.Status)
	plain, err = commands.OpenSecrets(f.keyring, f.connection(c.ID))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"refresh_token": "rt-rotated-" + folder, "access_token": "at-newer-" + folder}, plain)
}

func TestRefreshConnectionTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	folder := peers.RandomName("Refresh ")
	c := f.create(commands.CreateConnection{
		Kind: domain.KindDriveDestination, Name: "Drive",
		Settings: map[string]string{"folder_name": folder},
		Secrets:  map[string]string{"refresh_token": "rt-" + folder},
	})
	expiry := time.Date(2026, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	got, err := f.h.RefreshConnectionTokens.Handle(f.ctx(), commands.RefreshConnectionTokens{ID: c.ID, AccessToken: "at-" + folder, Expiry: expiry})
	require.NoError(t, err)
	require.Equal(t, expiry.UTC(), got.TokenExpiry)
	plain, err := commands.OpenSecrets(f.keyring, f.connection(c.ID))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"refresh_token": "rt-" + folder, "access_token": "at-" + folder}, plain, "the refresh token is kept when not rotated")

	_, err = f.h.RefreshConnectionTokens.Handle(f.ctx(), commands.RefreshConnectionTokens{ID: c.ID})
	requireSlug(t, err, "field-required", "access_token")
	s3 := f.create(s3Input(domain.KindS3Source, peers.RandomName("notoauth-")))
	_, err = f.h.RefreshConnectionTokens.Handle(f.ctx(), commands.RefreshConnectionTokens{ID: s3.ID, AccessToken: "x", Expiry: expiry})
	requireSlug(t, err, "not-oauth", "kind")
}

func TestDeleteConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.create(s3Input(domain.KindS3Destination, peers.RandomName("del-")))
	_, err := f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: c.ID})
	require.NoError(t, err)
	require.True(t, f.connection(c.ID).Deleted)
	_, err = f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: c.ID})
	require.ErrorIs(t, err, domain.ErrConnectionDeleted)
	_, err = f.h.CheckConnection.Handle(f.ctx(), commands.CheckConnection{ID: c.ID})
	require.ErrorIs(t, err, domain.ErrConnectionDeleted)
	_, err = f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: uuid.New()})
	require.ErrorIs(t, err, domain.ErrNotFound)
}

// TestNoPlaintextSecretInEvents reads the raw events of connections (created,
// updated, re-checked, tokens refreshed) and the command log, and finds no
// secret's bytes in them, in plain or in base64.
func TestNoPlaintextSecretInEvents(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tag := peers.RandomName("")
	plaintexts := []string{"S3-SECRET-" + tag, "S3-SECRET-2-" + tag, "mongodb://root:MONGO-PW-" + tag + "@db.example:27017/", "MONGO-PW-" + tag,
		"DRIVE-REFRESH-" + tag, "DRIVE-ACCESS-" + tag, "DRIVE-ACCESS-2-" + tag, "DRIVE-ACCESS-3-" + tag}

	s3 := s3Input(domain.KindS3Source, "nosecret-"+tag)
	s3.Secrets["secret_access_key"] = plaintexts[0]
	c1 := f.create(s3)
	_, err := f.h.UpdateConnection.Handle(f.ctx(), commands.UpdateConnection{ID: c1.ID, Name: "S3 renamed", Settings: s3.Settings,
		Secrets: map[string]string{"secret_access_key": plaintexts[1]}})
	require.NoError(t, err)
	_, err = f.h.CheckConnection.Handle(f.ctx(), commands.CheckConnection{ID: c1.ID})
	require.NoError(t, err)

	c2 := f.create(commands.CreateConnection{Kind: domain.KindMongoSource, Name: "Mongo", Settings: map[string]string{"database": "db-" + tag},
		Secrets: map[string]string{"uri": plaintexts[2], "password": plaintexts[3]}})

	folder := "folder-" + tag
	f.checker.script(folder, func(_, _ map[string]string) commands.CheckResult {
		return commands.CheckResult{Check: domain.Check{OK: true}, Secrets: map[string]string{"access_token": plaintexts[6]},
			Settings: map[string]string{"token_expiry": "2026-03-01T12:00:00Z"}}
	})
	c3 := f.create(commands.CreateConnection{Kind: domain.KindDriveDestination, Name: "Drive", Settings: map[string]string{"folder_name": folder},
		Secrets: map[string]string{"refresh_token": plaintexts[4], "access_token": plaintexts[5]}})
	_, err = f.h.RefreshConnectionTokens.Handle(f.ctx(), commands.RefreshConnectionTokens{ID: c3.ID, AccessToken: plaintexts[7], Expiry: f.clock.Now().Add(time.Hour)})
	require.NoError(t, err)
	_, err = f.h.CheckConnection.Handle(f.ctx(), commands.CheckConnection{ID: c3.ID})
	require.NoError(t, err)

	var raw strings.Builder
	events := 0
	for _, id := range []uuid.UUID{c1.ID, c2.ID, c3.ID} {
		for _, r := range f.events(commands.ConnectionStream(id)) {
			events++
			raw.Write(r.Data)
			raw.WriteString(r.Stream)
			raw.WriteString(r.Type)
			raw.WriteString(r.Meta.ActorName)
		}
	}
	require.GreaterOrEqual(t, events, 10)
	haystacks := map[string]string{"events": raw.String(), "log": f.logs.String()}
	require.Contains(t, haystacks["log"], "command=CreateConnection", "the log has the commands")
	for where, hay := range haystacks {
		for i, p := range plaintexts {
			for j, form := range encodings(p) {
				// Not require.NotContains: its message would print the haystack.
				require.Falsef(t, strings.Contains(hay, form), "secret %d (form %d) found in the %s", i, j, where)
			}
		}
	}
	// And they are all there, sealed.
	plain, err := commands.OpenSecrets(f.keyring, f.connection(c3.ID))
	require.NoError(t, err)
	require.Equal(t, plaintexts[6], plain["access_token"])
}
