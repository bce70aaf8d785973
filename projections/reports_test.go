package projections_test

import (
	"testing"
	"time"

	"backupd/domain"

	"github.com/stretchr/testify/require"
)

func TestReportViews(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.history()
	a, b := h.s3Source("A", "a"), h.s3Source("B", "b")
	d1, d2 := h.s3Destination("D1", "d1"), h.s3Destination("D2", "d2")

	h.clock = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	h.completedBackup("alice@example.test", a, d1, 100) // total_bytes 300
	failed := h.requestBackup("alice@example.test", a, d1)
	h.start(failed, "w1")
	h.opUpdate("system:w1", failed, func(o *domain.Operation, at time.Time) error { return o.Fail("w1", "boom", "", "", at) })
	cancelled := h.requestBackup("alice@example.test", b, d2)
	h.opUpdate("alice@example.test", cancelled, func(o *domain.Operation, at time.Time) error { return o.RequestCancel(at) })
	h.clock = time.Date(2026, 11, 21, 23, 30, 0, 0, time.UTC)
	h.completedBackup("alice@example.test", a, d2, 50) // total_bytes 150
	h.completedBackup("alice@example.test", b, d2, 10) // total_bytes 30
	// A later rename shows in the reports.
	at := h.tick(time.Hour)
	update(h, "alice@example.test", "connection-"+a.String(), h.conn(a), func(c *domain.Connection) error {
		return c.Update("A renamed", s3Settings("source-bucket"), c.Secrets, domain.Check{OK: true}, at)
	})
	e.caughtUp()

	type perDay struct {
		Day          string `json:"day"`
		SourceName   string `json:"source_name"`
		Backups      int    `json:"backups"`
		Completed    int    `json:"completed"`
		Failed       int    `json:"failed"`
		TotalBytes   int64  `json:"total_bytes"`
		ArchiveBytes int64  `json:"archive_bytes"`
	}
	days := rows[perDay](t, e.snapshot("report_backups_per_source_day", "day, source_name"))
	require.Equal(t, []perDay{
		{"2026-11-20", "A renamed", 2, 1, 1, 300, 100},
		{"2026-11-20", "B", 1, 0, 0, 0, 0},
		{"2026-11-21", "A renamed", 1, 1, 0, 150, 50},
		{"2026-11-21", "B", 1, 1, 0, 30, 10},
	}, days)

	type rate struct {
		SourceName  string   `json:"source_name"`
		Finished    int      `json:"finished"`
		Failed      int      `json:"failed"`
		FailureRate *float64 `json:"failure_rate"`
	}
	rates := rows[rate](t, e.snapshot("report_failure_rate", "source_name"))
	third, zero := 0.3333, 0.0
	require.Equal(t, []rate{{"A renamed", 3, 1, &third}, {"B", 1, 0, &zero}}, rates)

	type perDest struct {
		DestinationName string `json:"destination_name"`
		Backups         int    `json:"backups"`
		ArchiveBytes    int64  `json:"archive_bytes"`
		SourceBytes     int64  `json:"source_bytes"`
	}
	dests := rows[perDest](t, e.snapshot("report_bytes_per_destination", "destination_name"))
	require.Equal(t, []perDest{{"D1", 1, 100, 300}, {"D2", 2, 60, 180}}, dests)
}
