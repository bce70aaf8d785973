package gdrive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
	drive "google.golang.org/api/drive/v3"
	"google.golang.org/api/option"

	"backupd/commands"
	"backupd/domain"
)

// reachTimeout bounds the first request of a check: a host that does not
// answer within it is reported unreachable.
const reachTimeout = 5 * time.Second

// Check proves a Google Drive connection: it refreshes the access token if
// needed, reads the account and its quota (about.get), and finds the
// target folder in My Drive by name, creating it when missing. A failure
// is reported in plain words on the field it concerns. On success the
// result carries the settings to store (folder_id, account_email,
// token_expiry) and, when the token was refreshed, the new secrets.
// opts.OnRefresh also receives any refreshed token.
func Check(ctx context.Context, app App, settings, secrets map[string]string, opts Options) commands.CheckResult {
	cfg, err := ConfigFrom(settings, secrets)
	if err != nil {
		return failed(err)
	}
	opts = opts.withDefaults()
	var refreshed *oauth2.Token
	ts := NewTokenSource(app.OAuthConfig(), &cfg.Token, func(t *oauth2.Token) {
		refreshed = t
		if opts.OnRefresh != nil {
			opts.OnRefresh(t)
		}
	})
	ts.client = &http.Client{Transport: opts.Transport}
	client := &http.Client{Transport: &authTransport{base: opts.Transport, ts: ts}}
	ep := app.Endpoints.withDefaults()
	svc, err := drive.NewService(ctx, option.WithHTTPClient(client), option.WithEndpoint(ep.driveBase()+"/"))
	if err != nil {
		return failed(err)
	}

	reach, cancel := context.WithTimeout(ctx, reachTimeout)
	_, err = ts.TokenContext(reach)
	cancel()
	if err != nil {
		return failed(err)
	}
	reach, cancel = context.WithTimeout(ctx, reachTimeout)
	about, err := svc.About.Get().Fields("user(emailAddress,displayName),storageQuota").Context(reach).Do()
	cancel()
	if err != nil {
		return failed(fromGoogleAPI(err))
	}
	folder, created, err := checkFolder(ctx, svc, cfg)
	if err != nil {
		return failed(folderError(cfg.FolderName, err))
	}

	res := commands.CheckResult{
		Check: domain.Check{OK: true, Details: map[string]string{
			"folder_name": folder.Name,
			"folder_id":   folder.Id,
		}},
		Settings: map[string]string{"folder_id": folder.Id},
	}
	if created {
		res.Details["folder_created"] = "true"
	}
	if u := about.User; u != nil {
		res.Details["account_email"] = u.EmailAddress
		res.Details["display_name"] = u.DisplayName
		res.Settings["account_email"] = u.EmailAddress
	}
	if q := about.StorageQuota; q != nil {
		res.Details["quota_usage"] = strconv.FormatInt(q.Usage, 10)
		if q.Limit > 0 {
			res.Details["quota_limit"] = strconv.FormatInt(q.Limit, 10)
		} else {
			res.Details["quota_limit"] = "unlimited"
		}
	}
	if refreshed != nil {
		secrets, tokSettings := TokenFields(refreshed) // refresh_token only when rotated
		res.Secrets = secrets
		res.Settings["token_expiry"] = tokSettings["token_expiry"]
	}
	return res
}

// checkFolder keeps the stored folder id while it still names the folder,
// otherwise finds or creates the folder by name.
func checkFolder(ctx context.Context, svc *drive.Service, cfg Config) (*drive.File, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if cfg.FolderID != "" {
		ok, err := usableFolder(ctx, svc, cfg.FolderID, cfg.FolderName)
		if err != nil {
			return nil, false, err
		}
		if ok {
			return &drive.File{Id: cfg.FolderID, Name: cfg.FolderName}, false, nil
		}
	}
	return findOrCreateFolder(ctx, svc, cfg.FolderName)
}

func folderError(name string, err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status < 500 && ae.Status != http.StatusUnauthorized {
		return domain.Invalid("folder-unusable", "folder_name",
			fmt.Sprintf("cannot find or create the folder %q in My Drive: %s", name, ae.Message))
	}
	return err
}

// failed turns a check error into the reason shown beside the right field.
func failed(err error) commands.CheckResult {
	c := domain.Check{OK: false, Reason: err.Error()}
	var de *domain.Error
	var ae *APIError
	var ue *UnreachableError
	switch {
	case errors.As(err, &de):
		c.Reason, c.Field = de.Message, de.Field
	case errors.Is(err, ErrReconnectRequired):
		c.Reason, c.Field = ErrReconnectRequired.Error(), "refresh_token"
	case errors.As(err, &ue) || isUnreachable(err) || errors.Is(err, context.DeadlineExceeded):
		if ue == nil {
			ue = &UnreachableError{Err: err}
		}
		c.Reason = ue.Error()
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		c.Reason, c.Field = "Google rejected the access token even after refreshing it: reconnect this Google Drive connection ("+ae.Message+")", "refresh_token"
	case errors.As(err, &ae) && ae.Reason == "insufficientPermissions":
		c.Reason, c.Field = "the Google account did not allow access to Drive files: reconnect and grant access ("+ae.Message+")", "refresh_token"
	case errors.As(err, &ae):
		c.Reason = ae.Error()
	default:
		c.Reason = safeErr(err)
	}
	return commands.CheckResult{Check: c}
}
