package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"backupd/executors/testsupport/peers"
	"backupd/httpapi/apitest"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

type operationAnswer struct {
	ID     uuid.UUID `json:"id"`
	Kind   string    `json:"kind"`
	Status string    `json:"status"`
	Source struct {
		ID   uuid.UUID `json:"id"`
		Name string    `json:"name"`
		Kind string    `json:"kind"`
	} `json:"source"`
	Destination struct {
		ID   uuid.UUID `json:"id"`
		Name string    `json:"name"`
	} `json:"destination"`
	RequestedAt     time.Time  `json:"requested_at"`
	FinishedAt      *time.Time `json:"finished_at"`
	RequestedBy     string     `json:"requested_by"`
	PauseRequested  bool       `json:"pause_requested"`
	CancelRequested bool       `json:"cancel_requested"`
	AllowedActions  []string   `json:"allowed_actions"`
	PausedPosition  string     `json:"paused_position"`
}

// s3Pair creates a valid S3 source and destination through the API.
func s3Pair(t *testing.T, c *apitest.Client) (src, dst connectionAnswer) {
	t.Helper()
	p := peers.S3(t)
	r := c.Do(http.MethodPost, "/api/connections", s3Input(p, "s3_source", "Source", p.Bucket(t), p.SecretKey))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.JSON(t, &src)
	r = c.Do(http.MethodPost, "/api/connections", s3Input(p, "s3_destination", "Destination", p.Bucket(t), p.SecretKey))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.JSON(t, &dst)
	return src, dst
}

func TestOperationLifecycleThroughTheAPI(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{}) // no executors: operations stay where the commands put them
	c := srv.Login(t)
	src, dst := s3Pair(t, c)

	for _, tc := range []struct {
		name string
		body map[string]string
		code string
	}{
		{"no source", map[string]string{"destination_id": dst.ID.String()}, "field-required"},
		{"swapped", map[string]string{"source_id": dst.ID.String(), "destination_id": src.ID.String()}, ""},
		{"unknown", map[string]string{"source_id": uuid.NewString(), "destination_id": dst.ID.String()}, ""},
	} {
		r := c.Do(http.MethodPost, "/api/backups", tc.body)
		require.GreaterOrEqual(t, r.Status, 400, tc.name)
		require.Less(t, r.Status, 500, tc.name)
		if tc.code != "" {
			require.Equal(t, tc.code, r.ErrorCode(), tc.name)
		}
	}

	r := c.Do(http.MethodPost, "/api/backups", map[string]string{"source_id": src.ID.String(), "destination_id": dst.ID.String()})
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	var created struct{ ID uuid.UUID }
	r.JSON(t, &created)

	var op operationAnswer
	r = c.Do(http.MethodGet, "/api/operations/"+created.ID.String(), nil)
	require.Equal(t, http.StatusOK, r.Status, "read your writes: the operation is there at once")
	r.JSON(t, &op)
	require.Equal(t, "backup", op.Kind)
	require.Equal(t, "pending", op.Status)
	require.Equal(t, src.ID, op.Source.ID)
	require.Equal(t, "Source", op.Source.Name)
	require.Equal(t, srv.AdminEmail, op.RequestedBy)
	require.Equal(t, []string{"pause", "cancel"}, op.AllowedActions)

	step := func(action string, status int) operationAnswer {
		t.Helper()
		r := c.Do(http.MethodPost, "/api/operations/"+created.ID.String()+"/"+action, nil)
		require.Equal(t, status, r.Status, "%s: %s", action, r.Body)
		var o operationAnswer
		if status == http.StatusAccepted {
			r.JSON(t, &o)
		} else {
			require.Contains(t, []string{"invalid-transition", "cancelling"}, r.ErrorCode(), action)
		}
		return o
	}
	op = step("pause", http.StatusAccepted)
	require.Equal(t, "paused", op.Status)
	require.Equal(t, []string{"resume", "cancel"}, op.AllowedActions)
	require.NotEmpty(t, op.PausedPosition)
	step("pause", http.StatusConflict)
	op = step("resume", http.StatusAccepted)
	require.Equal(t, "pending", op.Status)
	step("resume", http.StatusConflict)
	op = step("cancel", http.StatusAccepted)
	require.Equal(t, "cancelled", op.Status, "a backup that never started is cancelled at once")
	require.NotNil(t, op.FinishedAt)
	require.Empty(t, op.AllowedActions)
	step("cancel", http.StatusConflict)
	step("resume", http.StatusConflict)

	// The same state when read again.
	var again operationAnswer
	c.Do(http.MethodGet, "/api/operations/"+created.ID.String(), nil).JSON(t, &again)
	require.Equal(t, "cancelled", again.Status)
	require.Empty(t, again.AllowedActions)

	// A second backup stays pending: the history filters and its totals.
	r = c.Do(http.MethodPost, "/api/backups", map[string]string{"source_id": src.ID.String(), "destination_id": dst.ID.String()})
	require.Equal(t, http.StatusAccepted, r.Status)
	type page struct {
		Items   []operationAnswer `json:"items"`
		Page    int               `json:"page"`
		PerPage int               `json:"per_page"`
		Total   int               `json:"total"`
		Totals  map[string]int    `json:"totals"`
	}
	var all page
	c.Do(http.MethodGet, "/api/operations", nil).JSON(t, &all)
	require.Equal(t, 2, all.Total)
	require.Equal(t, 1, all.Page)
	require.Equal(t, 25, all.PerPage)
	require.Len(t, all.Items, 2)
	require.False(t, all.Items[0].RequestedAt.Before(all.Items[1].RequestedAt), "newest first")
	require.Equal(t, 1, all.Totals["cancelled"])
	require.Equal(t, 1, all.Totals["pending"])
	require.Equal(t, 0, all.Totals["completed"])

	var filtered page
	c.Do(http.MethodGet, "/api/operations?status=cancelled&per_page=1", nil).JSON(t, &filtered)
	require.Equal(t, 1, filtered.Total)
	require.Equal(t, created.ID, filtered.Items[0].ID)
	require.Equal(t, all.Totals, filtered.Totals, "totals ignore the status filter")
	c.Do(http.MethodGet, "/api/operations?source_id="+dst.ID.String(), nil).JSON(t, &filtered)
	require.Equal(t, 0, filtered.Total)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	c.Do(http.MethodGet, "/api/operations?from="+tomorrow, nil).JSON(t, &filtered)
	require.Equal(t, 0, filtered.Total)
	today := time.Now().UTC().Format(time.DateOnly)
	c.Do(http.MethodGet, "/api/operations?from="+today+"&to="+today+"&kind=backup", nil).JSON(t, &filtered)
	require.Equal(t, 2, filtered.Total)
	for q, code := range map[string]string{
		"status=done": "status-invalid", "kind=copy": "kind-invalid", "from=yesterday": "from-invalid",
		"per_page=101": "per-page-invalid", "page=0": "page-invalid", "source_id=x": "source-id-invalid",
	} {
		r := c.Do(http.MethodGet, "/api/operations?"+q, nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, q)
		require.Equal(t, code, r.ErrorCode(), q)
	}

	// The terminal log: lines after a sequence number.
	var logs struct {
		Lines []struct {
			Seq     int64     `json:"seq"`
			At      time.Time `json:"at"`
			Level   string    `json:"level"`
			Message string    `json:"message"`
		} `json:"lines"`
		LastSeq int64 `json:"last_seq"`
	}
	r = c.Do(http.MethodGet, "/api/operations/"+created.ID.String()+"/logs", nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.JSON(t, &logs)
	if n := len(logs.Lines); n > 0 {
		require.Equal(t, logs.Lines[n-1].Seq, logs.LastSeq)
	}
	after := logs.LastSeq
	c.Do(http.MethodGet, "/api/operations/"+created.ID.String()+"/logs?after="+strconv.FormatInt(after, 10), nil).JSON(t, &logs)
	require.Empty(t, logs.Lines)
	require.Equal(t, after, logs.LastSeq)
	require.Equal(t, "limit-invalid", c.Do(http.MethodGet, "/api/operations/"+created.ID.String()+"/logs?limit=5000", nil).ErrorCode())

	require.Equal(t, http.StatusNotFound, c.Do(http.MethodGet, "/api/operations/"+uuid.NewString(), nil).Status)
	require.Equal(t, http.StatusNotFound, c.Do(http.MethodPost, "/api/operations/"+uuid.NewString()+"/pause", nil).Status)

	// Restores, their preflight and the manifest need a completed backup.
	restore := map[string]any{"target": map[string]any{"connection_id": src.ID}, "prefix": "restored/"}
	r = c.Do(http.MethodPost, "/api/operations/"+created.ID.String()+"/restore", restore)
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	require.Equal(t, "backup-not-completed", r.ErrorCode())
	r = c.Do(http.MethodPost, "/api/operations/"+created.ID.String()+"/restore", map[string]any{})
	require.Equal(t, "field-required", r.ErrorCode())
	r = c.Do(http.MethodGet, "/api/operations/"+created.ID.String()+"/manifest", nil)
	require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
	require.Equal(t, "backup-not-completed", r.ErrorCode())
	r = c.Do(http.MethodPost, "/api/operations/"+created.ID.String()+"/restore/preflight", restore)
	require.Equal(t, http.StatusConflict, r.Status, "the executors' planner refuses it: %s", r.Body)
	require.Equal(t, http.StatusNotFound, c.Do(http.MethodGet, "/api/operations/"+uuid.NewString()+"/manifest", nil).Status)
}

func TestAuditListsEveryEventNewestFirst(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{})
	c := srv.Login(t)
	src, _ := s3Pair(t, c)

	type auditPage struct {
		Items []struct {
			Type      string    `json:"type"`
			Stream    string    `json:"stream"`
			ActorID   string    `json:"actor_id"`
			ActorName string    `json:"actor_name"`
			At        time.Time `json:"at"`
			Summary   string    `json:"summary"`
		} `json:"items"`
		Page    int `json:"page"`
		PerPage int `json:"per_page"`
		Total   int `json:"total"`
	}
	stream := "connection-" + src.ID.String()
	var p auditPage
	require.Eventually(t, func() bool {
		c.Do(http.MethodGet, "/api/audit?stream="+stream, nil).JSON(t, &p)
		return p.Total >= 2
	}, 30*time.Second, 100*time.Millisecond, "the audit read model follows the events")
	require.Equal(t, "ConnectionChecked.v1", p.Items[0].Type, "newest first")
	require.Equal(t, "ConnectionCreated.v1", p.Items[len(p.Items)-1].Type)
	for _, it := range p.Items {
		require.Equal(t, stream, it.Stream)
		require.Equal(t, srv.AdminEmail, it.ActorName)
		require.NotEmpty(t, it.Summary)
	}
	c.Do(http.MethodGet, "/api/audit?per_page=2&page=2", nil).JSON(t, &p)
	require.Equal(t, 2, p.Page)
	require.Equal(t, 2, p.PerPage)
	require.Len(t, p.Items, 2)
	require.Greater(t, p.Total, 4)
	c.Do(http.MethodGet, "/api/audit?stream=user-"+srv.AdminID.String()+"&type=UserLoggedIn.v1", nil).JSON(t, &p)
	require.Equal(t, 1, p.Total)
	c.Do(http.MethodGet, "/api/audit?actor="+srv.AdminEmail, nil).JSON(t, &p)
	require.GreaterOrEqual(t, p.Total, 4, "the connections' events name their actor")
}
