package httpapi

import (
	"context"
	"errors"
	"strings"

	"backupd/commands"
	"backupd/domain"

	"github.com/gofiber/fiber/v2"
)

const forgotAnswer = "If that address has an account, a reset link is on its way."

type sessionAnswer struct {
	Authenticated       bool      `json:"authenticated"`
	User                *userJSON `json:"user,omitempty"`
	IdleTimeoutSeconds  int       `json:"idle_timeout_seconds"`
	PollIntervalSeconds int       `json:"poll_interval_seconds"`
	CSRFToken           string    `json:"csrf_token"`
	// SessionExpired: this request's cookie named a session the idle
	// timeout ended (the login page says so).
	SessionExpired bool `json:"session_expired,omitempty"`
}

func (s *Server) getSession(c *fiber.Ctx) error {
	st, err := s.currentSession(c)
	if err != nil {
		return err
	}
	ans := sessionAnswer{
		Authenticated: st.sess != nil, IdleTimeoutSeconds: int(s.cfg.IdleTimeout.Seconds()),
		PollIntervalSeconds: s.cfg.PollIntervalSeconds, CSRFToken: csrfToken(c), SessionExpired: st.expired,
	}
	if st.sess != nil {
		u, err := s.userOf(c.UserContext(), st.sess)
		if err != nil {
			return err
		}
		ans.User = &u
	}
	return c.JSON(ans)
}

type loginInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// login checks the per-IP throttle, then the command (which applies the
// per-account throttle), then starts a new session: any session the browser
// held is deleted, so a session id planted before login is worthless.
func (s *Server) login(c *fiber.Ctx) error {
	var in loginInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Email) == "" {
		return invalidField("field-required", "email", "enter your e-mail address")
	}
	if in.Password == "" {
		return invalidField("field-required", "password", "enter your password")
	}
	ctx := s.anonymousContext(c)
	ip, now := c.IP(), s.now()
	throttled, err := s.limits.exceeded(ctx, bucketLoginFailure, ip, s.cfg.LoginThrottle, now)
	if err != nil {
		return err
	}
	if throttled {
		return errLoginThrottled
	}
	u, err := s.deps.Commands.Login.Handle(ctx, commands.Login{Email: in.Email, Password: in.Password, IP: ip, UserAgent: c.Get(fiber.HeaderUserAgent)})
	if err != nil {
		if errors.Is(err, domain.ErrInvalidCredentials) || errors.Is(err, domain.ErrLoginThrottled) {
			if rerr := s.limits.record(ctx, bucketLoginFailure, ip, now); rerr != nil {
				return errors.Join(err, rerr)
			}
		}
		return err
	}
	if old := c.Cookies(SessionCookie); old != "" {
		if err := s.sessions.delete(ctx, hashToken(old)); err != nil {
			return err
		}
	}
	s.housekeep(ctx)
	token, err := s.sessions.create(ctx, u.ID, u.Email, ip, c.Get(fiber.HeaderUserAgent), now)
	if err != nil {
		return err
	}
	s.setSessionCookie(c, token)
	c.Locals(localUser, u.ID.String())
	return c.JSON(fiber.Map{"user": userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, LastLoginAt: &now}})
}

// housekeep forgets rate events and sessions long past any use. It runs on
// login (rare), so no timer is needed; a failure only delays it.
func (s *Server) housekeep(ctx context.Context) {
	now := s.now()
	if err := s.limits.prune(ctx, now.Add(-max(rateEventsRetention, s.cfg.LoginThrottle.Window, s.cfg.ForgotThrottle.Window))); err != nil {
		s.log.Warn("housekeeping", "error", err.Error())
	}
	// Sessions idle a day beyond the timeout: the user has long left; the
	// "session expired" notice is not worth keeping their row any longer.
	if _, err := s.sessions.deleteIdle(ctx, s.cfg.IdleTimeout+rateEventsRetention, now); err != nil {
		s.log.Warn("housekeeping", "error", err.Error())
	}
}

func (s *Server) logout(c *fiber.Ctx) error {
	sess := mustSession(c)
	if err := s.sessions.delete(c.UserContext(), sess.ID); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	s.recordLogout(c.UserContext(), *sess, commands.LogoutByUser)
	return c.SendStatus(fiber.StatusNoContent)
}

type forgotInput struct {
	Email string `json:"email"`
}

// forgotPassword answers at once and the same way for every address; the
// token is issued and mailed in the background, so neither the answer nor
// its timing tells whether the address has an account.
func (s *Server) forgotPassword(c *fiber.Ctx) error {
	var in forgotInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if _, err := parseEmail(in.Email); err != nil {
		return invalidField("email-invalid", "email", "enter a valid e-mail address")
	}
	ctx := s.anonymousContext(c)
	ip, now := c.IP(), s.now()
	throttled, err := s.limits.exceeded(ctx, bucketForgot, ip, s.cfg.ForgotThrottle, now)
	if err != nil {
		return err
	}
	if throttled {
		return errForgotThrottled
	}
	if err := s.limits.record(ctx, bucketForgot, ip, now); err != nil {
		return err
	}
	s.background(ctx, func(ctx context.Context) { s.sendResetLink(ctx, in.Email) })
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"message": forgotAnswer})
}

func (s *Server) sendResetLink(ctx context.Context, email string) {
	res, err := s.deps.Commands.RequestPasswordReset.Handle(ctx, commands.RequestPasswordReset{Email: email})
	if err != nil {
		s.log.Error("password reset request failed", "error", err.Error())
		return
	}
	if res.Token == "" || res.User == nil {
		return // unknown address: nothing to send
	}
	link := s.cfg.PublicURL + "/reset-password?token=" + res.Token
	msg := Message{
		To:      res.User.Email,
		Subject: "Reset your backupd password",
		Text: "Hello " + res.User.Name + ",\n\n" +
			"Someone (hopefully you) asked to reset the password of your backupd account.\n" +
			"Open this link to choose a new password:\n\n" + link + "\n\n" +
			"The link works once and expires soon. If you did not ask for it, ignore this message:\n" +
			"your password stays as it is.\n",
	}
	if err := s.deps.Mailer.Send(ctx, msg); err != nil {
		s.log.Error("sending the password reset e-mail failed", "user_id", res.User.ID.String(), "error", err.Error())
	}
}

type resetInput struct {
	Token                string `json:"token"`
	Password             string `json:"password"`
	PasswordConfirmation string `json:"password_confirmation"`
}

func (s *Server) resetPassword(c *fiber.Ctx) error {
	var in resetInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Token) == "" {
		return domain.ErrResetTokenInvalid
	}
	if err := checkNewPassword(in.Password, in.PasswordConfirmation); err != nil {
		return err
	}
	u, err := s.deps.Commands.ResetPassword.Handle(s.anonymousContext(c), commands.ResetPassword{Token: in.Token, Password: in.Password})
	if err != nil {
		return err
	}
	// A reset means the old password may be known to someone else: every
	// session of the account ends.
	if err := s.sessions.deleteUser(c.UserContext(), u.ID, nil); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"message": "Your password has been changed. Log in with the new one."})
}

type changeInput struct {
	CurrentPassword      string `json:"current_password"`
	Password             string `json:"password"`
	PasswordConfirmation string `json:"password_confirmation"`
}

func (s *Server) changePassword(c *fiber.Ctx) error {
	var in changeInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.CurrentPassword == "" {
		return invalidField("field-required", "current_password", "enter your current password")
	}
	if err := checkNewPassword(in.Password, in.PasswordConfirmation); err != nil {
		return err
	}
	sess := mustSession(c)
	u, err := s.deps.Commands.ChangePassword.Handle(c.UserContext(), commands.ChangePassword{
		UserID: sess.UserID, CurrentPassword: in.CurrentPassword, NewPassword: in.Password})
	if err != nil {
		return err
	}
	// Other sessions of the account end; this one goes on.
	if err := s.sessions.deleteUser(c.UserContext(), u.ID, sess.ID); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"message": "Your password has been changed."})
}

func checkNewPassword(password, confirmation string) error {
	if err := domain.ValidatePassword(password); err != nil {
		return err
	}
	if password != confirmation {
		return invalidField("password-mismatch", "password_confirmation", "the two passwords differ")
	}
	return nil
}

// anonymousContext is the command context of a request made before login.
func (s *Server) anonymousContext(c *fiber.Ctx) context.Context {
	ctx := s.actorContext(c, nil)
	m := commands.MetaFrom(ctx)
	m.ActorID, m.ActorName = "anonymous", "anonymous"
	return commands.WithMeta(ctx, m)
}

// mustSession is the session of a route behind requireSession.
func mustSession(c *fiber.Ctx) *session {
	st, _ := c.Locals(localSession).(*sessionState)
	if st == nil || st.sess == nil {
		panic("httpapi: handler without session behind requireSession")
	}
	return st.sess
}
