package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// What a user does again and again in the UI, as steps of the browser
// tests: log in, add an S3 connection through the form, start a backup
// from the "Back up now" dialog.

// browserStack is the product with its UI served, and a browser on it.
func browserStack(t *testing.T, o stackOptions) (*stack, *browser) {
	t.Helper()
	o.UI = webUI(t)
	s := startStack(t, o)
	return s, newBrowser(t, s.URL)
}

// login logs in through the login page, from wherever the browser is sent
// to it, and waits for the app to show.
func (b *browser) login(email, password string) {
	b.t.Helper()
	b.waitVisible(tid("login-page"))
	b.typeText(tid("login-email"), email)
	b.typeText(tid("login-password"), password)
	b.click(tid("login-submit"))
	b.waitVisible(tid("sidebar"))
	b.waitVisible(tid("page-title"))
}

// openDashboardAndLogin visits the site as a new user does and logs in.
func (b *browser) openAndLogin(s *stack) {
	b.t.Helper()
	b.navigate("/")
	b.login(s.AdminEmail, s.AdminPassword)
	b.waitPath("/")
}

// s3Form is what a user types into the S3 connection form.
type s3Form struct {
	Kind     string // s3_source or s3_destination
	Name     string
	Bucket   string
	Prefix   string // destinations only
	Endpoint string // default: the peer's
	Secret   string // default: the peer's
}

// fillS3Form fills the S3 form field by field, as a user types it.
func (b *browser) fillS3Form(s *stack, f s3Form) {
	b.t.Helper()
	if f.Endpoint == "" {
		f.Endpoint = s.S3.Endpoint
	}
	if f.Secret == "" {
		f.Secret = s.S3.SecretKey
	}
	b.waitAttr(tid("connection-form"), "data-kind", f.Kind, stepTimeout)
	b.typeText(tid("field-name"), f.Name)
	b.typeText(tid("field-access_key_id"), s.S3.AccessKey)
	b.typeText(tid("field-secret_access_key"), f.Secret)
	b.typeText(tid("field-region"), s.S3.Region)
	b.typeText(tid("field-bucket"), f.Bucket)
	b.typeText(tid("field-endpoint"), f.Endpoint)
	if f.Kind == "s3_destination" {
		b.typeText(tid("field-prefix"), f.Prefix)
	}
	if b.attr(tid("field-path_style"), "aria-checked") != "true" {
		b.click(tid("field-path_style"))
	}
	b.waitAttr(tid("field-path_style"), "aria-checked", "true", stepTimeout)
}

// addS3Connection creates an S3 connection through the form, starting from
// the connections page, and returns its id as the list shows it.
func (b *browser) addS3Connection(s *stack, f s3Form) uuid.UUID {
	b.t.Helper()
	b.click(tid("nav-connections"))
	b.waitPath("/connections")
	b.click(tid("connections-new"))
	b.click(tid("kind-" + f.Kind))
	b.fillS3Form(s, f)
	b.click(tid("submit"))
	b.waitPath("/connections")
	row := `[data-testid="connection-row"][data-connection-name=` + jsString(f.Name) + `]`
	b.waitVisible(row)
	id, err := uuid.Parse(b.attr(row, "data-connection-id"))
	require.NoError(b.t, err)
	b.waitAttr(row+" "+tid("connection-status"), "data-status", "valid", stepTimeout)
	return id
}

// backupNow starts a backup from the header's "Back up now" dialog and
// returns the operation the browser is sent to.
func (b *browser) backupNow(source, destination uuid.UUID) uuid.UUID {
	b.t.Helper()
	from, _ := b.location()
	if b.exists(tid("dashboard-backup-now")) {
		b.click(tid("dashboard-backup-now"))
	} else {
		b.click(tid("header-backup-now"))
	}
	b.waitVisible(tid("backup-now-dialog"))
	b.waitVisible(tid("backup-source"))
	b.setValue(tid("backup-source"), source.String())
	b.setValue(tid("backup-destination"), destination.String())
	b.click(tid("backup-start"))
	b.waitFor("the new operation's page", stepTimeout, `/^\/operations\/[0-9a-f-]{36}$/.test(location.pathname) && location.pathname !== `+jsString(from))
	path, _ := b.location()
	id, err := uuid.Parse(strings.TrimPrefix(path, "/operations/"))
	require.NoError(b.t, err)
	b.waitVisible(tid("operation-status"))
	return id
}

// opStatus is the status badge of the operation page.
func (b *browser) opStatus() string {
	b.t.Helper()
	return b.attr(tid("operation-status"), "data-status")
}

// waitOpStatus waits for the operation page's badge to show status.
func (b *browser) waitOpStatus(status string, timeout time.Duration) time.Duration {
	b.t.Helper()
	return b.waitAttr(tid("operation-status"), "data-status", status, timeout)
}

// lineCount is how many lines the terminal holds.
func (b *browser) lineCount() int {
	b.t.Helper()
	var n int
	b.eval(`Number(document.querySelector(`+jsString(tid("terminal-log"))+`)?.dataset.lineCount ?? 0)`, &n)
	return n
}

func uuidMust(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	require.NoError(t, err)
	return id
}
