package gdrive

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// ErrReconnectRequired means Google refused the refresh token: the user
// revoked the app's access, or the token expired unused. Only a new consent
// fixes it.
var ErrReconnectRequired = errors.New("Google refused the refresh token (revoked or expired): reconnect this Google Drive connection")

// TokenSource hands out a valid access token, refreshing it when it has
// expired or when Drive rejected it (ForceRefresh), and reports every new
// token to OnRefresh so the caller can store it.
type TokenSource struct {
	cfg       *oauth2.Config
	client    *http.Client // for the token endpoint
	onRefresh func(*oauth2.Token)

	mu  sync.Mutex
	tok oauth2.Token
}

// NewTokenSource starts from tok (its access token may be empty or
// expired; its refresh token must be set). onRefresh, which may be nil, is
// called with each new token (its RefreshToken set only when Google
// rotated it, as commands.RefreshConnectionTokens expects) while the
// source is locked, in order; it must not call back into the source.
func NewTokenSource(cfg *oauth2.Config, tok *oauth2.Token, onRefresh func(*oauth2.Token)) *TokenSource {
	return &TokenSource{cfg: cfg, client: &http.Client{Transport: newTransport()}, onRefresh: onRefresh, tok: *tok}
}

// Token implements oauth2.TokenSource.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.TokenContext(ctx)
}

// TokenContext returns a valid token, refreshing it if it has expired.
func (s *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.AccessToken != "" && s.tok.Valid() {
		t := s.tok
		return &t, nil
	}
	return s.refreshLocked(ctx)
}

// ForceRefresh gets a new access token because Drive rejected stale (401).
// When another caller already replaced stale, the current token is returned.
func (s *TokenSource) ForceRefresh(ctx context.Context, stale string) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.AccessToken != stale && s.tok.AccessToken != "" && s.tok.Valid() {
		t := s.tok
		return &t, nil
	}
	return s.refreshLocked(ctx)
}

// Current returns the token held now, without refreshing.
func (s *TokenSource) Current() oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok
}

func (s *TokenSource) refreshLocked(ctx context.Context) (*oauth2.Token, error) {
	if s.tok.RefreshToken == "" {
		return nil, ErrReconnectRequired
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	// A source built on a token with no access token always refreshes.
	nt, err := s.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: s.tok.RefreshToken}).Token()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, tokenError("refresh the access token", err)
	}
	rotated := nt.RefreshToken != "" && nt.RefreshToken != s.tok.RefreshToken
	if nt.RefreshToken == "" {
		nt.RefreshToken = s.tok.RefreshToken
	}
	s.tok = *nt
	if s.onRefresh != nil {
		t := *nt
		if !rotated {
			t.RefreshToken = "" // only a new refresh token needs storing
		}
		s.onRefresh(&t)
	}
	t := *nt
	return &t, nil
}

// authTransport adds the bearer token to each request and, when Drive
// answers 401 (the token expired early or was revoked server-side),
// refreshes it once and replays the request (when its body can be replayed).
type authTransport struct {
	base http.RoundTripper
	ts   *TokenSource
	log  *slog.Logger // may be nil
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.ts.TokenContext(req.Context())
	if err != nil {
		closeBody(req)
		return nil, &tokenFailure{err: err}
	}
	resp, err := t.base.RoundTrip(withBearer(req, tok.AccessToken))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot replay; the caller sees the 401
	}
	drain(resp)
	if t.log != nil {
		t.log.Warn("Google Drive refused the access token (expired or revoked early); refreshing it and sending the request again")
	}
	tok, err = t.ts.ForceRefresh(req.Context(), tok.AccessToken)
	if err != nil {
		return nil, &tokenFailure{err: err}
	}
	again := withBearer(req, tok.AccessToken)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		again.Body = body
	}
	return t.base.RoundTrip(again)
}

func withBearer(req *http.Request, access string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+access)
	return r
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// tokenFailure is a request that was not sent because no access token
// could be had; it is final unless Google was merely unreachable.
type tokenFailure struct{ err error }

func (e *tokenFailure) Error() string { return e.err.Error() }
func (e *tokenFailure) Unwrap() error { return e.err }

func isTokenFailure(err error) bool {
	var tf *tokenFailure
	return errors.As(err, &tf)
}
