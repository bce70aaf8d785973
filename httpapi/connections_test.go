package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"backupd/executors/testsupport/peers"
	"backupd/httpapi/apitest"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

type connectionAnswer struct {
	ID               uuid.UUID         `json:"id"`
	Kind             string            `json:"kind"`
	Role             string            `json:"role"`
	Service          string            `json:"service"`
	Name             string            `json:"name"`
	Settings         map[string]string `json:"settings"`
	SecretsSet       map[string]bool   `json:"secrets_set"`
	Status           string            `json:"status"`
	StatusReason     string            `json:"status_reason"`
	StatusField      string            `json:"status_field"`
	CheckedAt        *time.Time        `json:"checked_at"`
	Details          map[string]string `json:"details"`
	ActiveOperations int               `json:"active_operations"`
	CreatedAt        time.Time         `json:"created_at"`
	UpdatedAt        time.Time         `json:"updated_at"`
}

type errorAnswer struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// secretWatch fails the test if a response body ever holds a secret.
type secretWatch struct {
	t       *testing.T
	c       *apitest.Client
	secrets []string
}

func (w secretWatch) Do(method, path string, body any) apitest.Response {
	w.t.Helper()
	r := w.c.Do(method, path, body)
	for _, s := range w.secrets {
		require.NotContains(w.t, string(r.Body), s, "%s %s answered a secret", method, path)
	}
	return r
}

func s3Input(p peers.S3Peer, kind, name, bucket, secret string) map[string]any {
	return map[string]any{
		"kind": kind, "name": name,
		"settings": map[string]string{"access_key_id": p.AccessKey, "region": p.Region, "bucket": bucket,
			"endpoint": p.Endpoint, "path_style": "true"},
		"secrets": map[string]string{"secret_access_key": secret},
	}
}

func TestConnectionsAgainstS3(t *testing.T) {
	t.Parallel()
	s3p := peers.S3(t)
	srcBucket, dstBucket := s3p.Bucket(t), s3p.Bucket(t)
	srv := apitest.Start(t, apitest.Options{})
	c := secretWatch{t: t, c: srv.Login(t), secrets: []string{s3p.SecretKey, "wrong-secret-value-123"}}

	var kinds []struct {
		Kind, Role, Service string
	}
	c.Do(http.MethodGet, "/api/connection-kinds", nil).JSON(t, &kinds)
	require.Len(t, kinds, 4)

	// Failed checks store nothing and put the reason on the right field.
	for _, tc := range []struct {
		name, bucket, secret, field string
	}{
		{"wrong secret", srcBucket, "wrong-secret-value-123", "secret_access_key"},
		{"unknown bucket", "no-such-bucket-" + strings.ToLower(uuid.NewString()[:8]), s3p.SecretKey, "bucket"},
		{"missing secret", srcBucket, "", "secret_access_key"},
	} {
		r := c.Do(http.MethodPost, "/api/connections", s3Input(s3p, "s3_source", "Photos", tc.bucket, tc.secret))
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, tc.name)
		var e errorAnswer
		r.JSON(t, &e)
		require.Equal(t, tc.field, e.Error.Field, tc.name)
		require.NotEmpty(t, e.Error.Message, tc.name)
	}
	require.JSONEq(t, `{"items":[]}`, string(c.Do(http.MethodGet, "/api/connections", nil).Body), "nothing stored")

	r := c.Do(http.MethodPost, "/api/connections", s3Input(s3p, "s3_source", "Photos", srcBucket, s3p.SecretKey))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var src connectionAnswer
	r.JSON(t, &src)
	require.Equal(t, "s3_source", src.Kind)
	require.Equal(t, "source", src.Role)
	require.Equal(t, "s3", src.Service)
	require.Equal(t, "valid", src.Status)
	require.NotNil(t, src.CheckedAt)
	require.Equal(t, map[string]bool{"secret_access_key": true}, src.SecretsSet)
	require.Equal(t, srcBucket, src.Settings["bucket"])
	require.NotContains(t, src.Settings, "secret_access_key")

	// Read your writes: the list and the page show it at once.
	var got connectionAnswer
	c.Do(http.MethodGet, "/api/connections/"+src.ID.String(), nil).JSON(t, &got)
	require.Equal(t, src.ID, got.ID)
	require.Equal(t, "valid", got.Status)
	var list struct{ Items []connectionAnswer }
	c.Do(http.MethodGet, "/api/connections?role=source", nil).JSON(t, &list)
	require.Len(t, list.Items, 1)
	c.Do(http.MethodGet, "/api/connections?role=destination", nil).JSON(t, &list)
	require.Empty(t, list.Items)
	require.Equal(t, "role-invalid", c.Do(http.MethodGet, "/api/connections?role=both", nil).ErrorCode())

	// Edit: a blank secret keeps the stored one; a wrong one changes nothing.
	edit := s3Input(s3p, "", "Photos (main)", srcBucket, "")
	r = c.Do(http.MethodPut, "/api/connections/"+src.ID.String(), edit)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.JSON(t, &got)
	require.Equal(t, "Photos (main)", got.Name)
	require.Equal(t, "valid", got.Status)
	require.True(t, got.SecretsSet["secret_access_key"])
	r = c.Do(http.MethodPut, "/api/connections/"+src.ID.String(), s3Input(s3p, "", "Renamed", srcBucket, "wrong-secret-value-123"))
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	c.Do(http.MethodGet, "/api/connections/"+src.ID.String(), nil).JSON(t, &got)
	require.Equal(t, "Photos (main)", got.Name, "a failed edit stores nothing")

	r = c.Do(http.MethodPost, "/api/connections/"+src.ID.String()+"/check", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var checked connectionAnswer
	r.JSON(t, &checked)
	require.Equal(t, "valid", checked.Status)
	require.False(t, checked.CheckedAt.Before(*got.CheckedAt))

	dstIn := s3Input(s3p, "s3_destination", "Archive", dstBucket, s3p.SecretKey)
	dstIn["settings"].(map[string]string)["prefix"] = "backups/"
	r = c.Do(http.MethodPost, "/api/connections", dstIn)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var dst connectionAnswer
	r.JSON(t, &dst)
	require.Equal(t, "backups/", dst.Settings["prefix"])

	r = c.Do(http.MethodPost, "/api/connections", map[string]any{"kind": "gdrive_destination", "name": "Drive", "settings": map[string]string{"folder_name": "x"}})
	require.Equal(t, "use-oauth", r.ErrorCode(), "Drive connects through the consent flow only")

	// A backup holds both connections: neither can be deleted.
	r = c.Do(http.MethodPost, "/api/backups", map[string]string{"source_id": src.ID.String(), "destination_id": dst.ID.String()})
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	r = c.Do(http.MethodDelete, "/api/connections/"+src.ID.String(), nil)
	require.Equal(t, http.StatusConflict, r.Status)
	require.Equal(t, "connection-in-use", r.ErrorCode())
	c.Do(http.MethodGet, "/api/connections/"+dst.ID.String(), nil).JSON(t, &got)
	require.Equal(t, 1, got.ActiveOperations)

	// A connection nobody uses goes.
	r = c.Do(http.MethodPost, "/api/connections", s3Input(s3p, "s3_source", "Spare", srcBucket, s3p.SecretKey))
	require.Equal(t, http.StatusCreated, r.Status)
	var spare connectionAnswer
	r.JSON(t, &spare)
	require.Equal(t, http.StatusNoContent, c.Do(http.MethodDelete, "/api/connections/"+spare.ID.String(), nil).Status)
	require.Equal(t, http.StatusNotFound, c.Do(http.MethodGet, "/api/connections/"+spare.ID.String(), nil).Status)
	require.Equal(t, http.StatusNotFound, c.Do(http.MethodGet, "/api/connections/not-a-uuid", nil).Status)
	require.Equal(t, http.StatusNotFound, c.Do(http.MethodPost, "/api/connections/"+uuid.NewString()+"/check", nil).Status)
}
