package httpapi

import (
	"errors"
	"net/url"
	"strings"

	"backupd/commands"
	"backupd/domain"
	"backupd/executors/gdrive"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// GoogleCallbackPath is where Google sends the browser back after consent.
const GoogleCallbackPath = "/oauth/google/callback"

type authorizeInput struct {
	Name         string     `json:"name"`
	FolderName   string     `json:"folder_name"`
	ConnectionID *uuid.UUID `json:"connection_id"`
}

// gdriveAuthorize starts the consent flow: it remembers the form (bound to
// the session, for 10 minutes, single use) and answers the consent URL,
// with a state and a PKCE challenge.
func (s *Server) gdriveAuthorize(c *fiber.Ctx) error {
	if s.cfg.Google.ClientID == "" {
		return newError(fiber.StatusNotImplemented, "not-configured",
			"Google Drive is not configured on this server: set BACKUPD_GOOGLE_CLIENT_ID and BACKUPD_GOOGLE_CLIENT_SECRET")
	}
	var in authorizeInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p := pendingAuthorization{Name: strings.TrimSpace(in.Name), FolderName: strings.TrimSpace(in.FolderName), ConnectionID: in.ConnectionID}
	if p.ConnectionID != nil {
		// A reconnect: blank fields keep the connection's values.
		conn, err := s.deps.Queries.GetConnection(c.UserContext(), *p.ConnectionID)
		if err != nil {
			return err
		}
		if conn.Kind != domain.KindDriveDestination {
			return invalidField("not-gdrive", "connection_id", "only a Google Drive connection can be reconnected with Google")
		}
		if p.Name == "" {
			p.Name = conn.Name
		}
		if p.FolderName == "" {
			p.FolderName = conn.Settings["folder_name"]
		}
	}
	if p.Name == "" {
		return invalidField("field-required", "name", "enter a name")
	}
	if len(p.Name) > 100 {
		return invalidField("name-too-long", "name", "the name may have at most 100 characters")
	}
	if p.FolderName == "" {
		return invalidField("field-required", "folder_name", "enter the name of the Drive folder for the backups")
	}
	sess := mustSession(c)
	state := newToken()
	if err := s.oauth.create(c.UserContext(), state, sess.ID, p, s.now()); err != nil {
		return err
	}
	verifier := pkceVerifier(c.Cookies(SessionCookie), state)
	return c.JSON(fiber.Map{"authorize_url": gdrive.ConsentURL(s.cfg.Google.OAuthConfig(), state, verifier)})
}

// gdriveCallback finishes the flow: it checks the state against the
// session, exchanges the code (with the PKCE verifier) and creates the
// connection (or updates it, for a reconnect) with the tokens as secrets;
// the connection check proves them and finds or creates the folder. Every
// failure sends the browser back to the form with the reason in plain words.
func (s *Server) gdriveCallback(c *fiber.Ctx) error {
	var reconnecting *uuid.UUID
	fail := func(reason string) error {
		q := url.Values{"kind": {string(domain.KindDriveDestination)}, "error": {reason}}
		if reconnecting != nil {
			q.Set("connection_id", reconnecting.String())
		}
		return c.Redirect("/connections/new?"+q.Encode(), fiber.StatusFound)
	}
	state := c.Query("state")
	if state == "" {
		return fail("The answer from Google was incomplete (no state). Start again.")
	}
	sess := mustSession(c)
	ctx := c.UserContext()
	p, ok, err := s.oauth.take(ctx, state, sess.ID, s.now())
	if err != nil {
		return err
	}
	if !ok {
		return fail("This Google sign-in was started from another session, was already used or took longer than 10 minutes. Start again.")
	}
	reconnecting = p.ConnectionID
	if e := c.Query("error"); e != "" {
		if e == "access_denied" {
			return fail("Access to Google Drive was denied, so nothing was connected.")
		}
		return fail("Google did not connect the account (" + e + ").")
	}
	code := c.Query("code")
	if code == "" {
		return fail("The answer from Google was incomplete (no authorization code). Start again.")
	}
	tok, err := gdrive.Exchange(ctx, s.cfg.Google.OAuthConfig(), code, pkceVerifier(c.Cookies(SessionCookie), state))
	if err != nil {
		return fail(err.Error()) // gdrive's errors hold neither the code nor a token
	}
	secrets, settings := gdrive.TokenFields(tok)
	settings["folder_name"] = p.FolderName
	var conn *domain.Connection
	if p.ConnectionID == nil {
		conn, err = s.deps.Commands.CreateConnection.Handle(ctx, commands.CreateConnection{
			Kind: domain.KindDriveDestination, Name: p.Name, Settings: settings, Secrets: secrets})
	} else {
		conn, err = s.reconnectDrive(c, *p.ConnectionID, p, settings, secrets)
	}
	if err != nil {
		if de, ok := domain.AsError(err); ok {
			return fail(de.Message)
		}
		// The browser is navigating: an answer in JSON would strand it.
		s.log.Error("Drive connect failed", "request_id", requestID(c), "error", err.Error())
		return fail("Something went wrong on our side; it has been logged with request id " + requestID(c) + ". Try again.")
	}
	s.waitForWrites(ctx, commands.ConnectionStream(conn.ID))
	return c.Redirect("/connections/"+conn.ID.String()+"?connected=1", fiber.StatusFound)
}

// reconnectDrive updates a Drive connection with new tokens. A changed
// folder name drops the known folder id, so the check finds or creates the
// new folder.
func (s *Server) reconnectDrive(c *fiber.Ctx, id uuid.UUID, p pendingAuthorization, settings, secrets map[string]string) (*domain.Connection, error) {
	current, err := s.deps.Queries.GetConnection(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	if current.Settings["folder_name"] != p.FolderName {
		settings["folder_id"] = ""
	}
	conn, err := s.deps.Commands.UpdateConnection.Handle(c.UserContext(), commands.UpdateConnection{
		ID: id, Name: p.Name, Settings: settings, Secrets: secrets})
	if errors.Is(err, domain.ErrConnectionDeleted) {
		return nil, domain.Invalid("connection-deleted", "connection_id", "this connection has been deleted; connect a new one")
	}
	return conn, err
}
