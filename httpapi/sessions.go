package httpapi

import (
	"context"
	"net/url"
	"time"

	"backupd/commands"

	"github.com/gofiber/fiber/v2"
)

const (
	SessionCookie = "backupd_session"
	localSession  = "backupd.session"
	// PollHeader marks a request the UI makes by itself (polling logs and
	// lists): it is authenticated but does not count as activity, so a tab
	// left open still reaches the idle timeout.
	PollHeader = "X-Backupd-Poll"
)

// sessionState is what a request knows about its session, resolved once.
type sessionState struct {
	sess    *session // nil when not logged in
	expired bool     // the cookie named a session that the idle timeout ended
}

// currentSession resolves the request's session lazily (static assets never
// touch the database). An idle session is ended here: its row is deleted and
// the logout recorded with reason "idle-timeout".
func (s *Server) currentSession(c *fiber.Ctx) (*sessionState, error) {
	if st, ok := c.Locals(localSession).(*sessionState); ok {
		return st, nil
	}
	st := &sessionState{}
	token := c.Cookies(SessionCookie)
	if token == "" {
		c.Locals(localSession, st)
		return st, nil
	}
	ctx := c.UserContext()
	sess, found, err := s.sessions.lookup(ctx, token)
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case !found:
		s.clearSessionCookie(c)
	case now.Sub(sess.LastSeenAt) > s.cfg.IdleTimeout:
		st.expired = true
		s.clearSessionCookie(c)
		if err := s.sessions.delete(ctx, sess.ID); err != nil {
			return nil, err
		}
		s.recordLogout(s.actorContext(c, &sess), sess, commands.LogoutIdleTimeout)
	default:
		st.sess = &sess
		c.Locals(localUser, sess.UserID.String())
		if c.Get(PollHeader) == "" && now.Sub(sess.LastSeenAt) >= s.touchEvery() {
			if err := s.sessions.touch(ctx, sess.ID, now); err != nil {
				return nil, err
			}
		}
	}
	c.Locals(localSession, st)
	return st, nil
}

// touchEvery spares the database a write per request: last_seen_at moves
// at most once a minute (or a tenth of the idle timeout when that is less),
// so a session ends between IdleTimeout minus that and IdleTimeout after the
// last activity.
func (s *Server) touchEvery() time.Duration {
	return min(sessionTouchMaxEvery, s.cfg.IdleTimeout/10)
}

// recordLogout records the logout event; the session is already gone, so a
// failure to record it is logged, not shown to the user.
func (s *Server) recordLogout(ctx context.Context, sess session, reason string) {
	if _, err := s.deps.Commands.Logout.Handle(ctx, commands.Logout{UserID: sess.UserID, Reason: reason}); err != nil {
		s.log.Error("record logout", "user_id", sess.UserID.String(), "reason", reason, "error", err.Error())
	}
}

// requireSession guards every non-public route: API requests get a 401 JSON
// answer, page requests a redirect to the login page.
func (s *Server) requireSession(c *fiber.Ctx) error {
	st, err := s.currentSession(c)
	if err != nil {
		return err
	}
	if st.sess != nil {
		c.SetUserContext(s.actorContext(c, st.sess))
		return c.Next()
	}
	if isAPIPath(c.Path()) {
		if st.expired {
			return errSessionExpired
		}
		return errUnauthenticated
	}
	return c.Redirect(loginRedirect(c, st.expired), fiber.StatusFound)
}

func loginRedirect(c *fiber.Ctx, expired bool) string {
	if expired {
		return "/login?expired=1"
	}
	next := c.OriginalURL()
	if next == "" || next == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

// actorContext carries who acts into the commands' event metadata.
func (s *Server) actorContext(c *fiber.Ctx, sess *session) context.Context {
	m := commands.Meta{IP: c.IP()}
	if rid, err := parseUUID(requestID(c)); err == nil {
		m.CorrelationID = rid
	}
	if sess != nil {
		m.ActorID, m.ActorName = sess.UserID.String(), sess.UserEmail
	}
	return commands.WithMeta(c.UserContext(), m)
}

func (s *Server) setSessionCookie(c *fiber.Ctx, token string) {
	c.Cookie(&fiber.Cookie{
		Name: SessionCookie, Value: token, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: s.cfg.secureCookies(c.Secure()),
		// No Expires: a browser session cookie; the server ends idle sessions.
	})
}

func (s *Server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: SessionCookie, Value: "", Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: s.cfg.secureCookies(c.Secure()), Expires: time.Unix(1, 0), MaxAge: -1,
	})
}
