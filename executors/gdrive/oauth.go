// Package gdrive is everything backupd does with Google Drive: the OAuth
// consent flow, connection checks, and an archive.Destination that writes
// archives with Drive's resumable upload protocol (a session that survives a
// process restart) and reads them back with ranged downloads.
package gdrive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Scope is the only scope the app asks for: drive.file lets it see and
// change only the files and folders it created, nothing else in the account.
const Scope = "https://www.googleapis.com/auth/drive.file"

// Endpoints are Google's three base URLs. Tests point all of them at the
// drive-emulator (see EndpointsFromBase).
type Endpoints struct {
	// APIBase serves <APIBase>/drive/v3 and <APIBase>/upload/drive/v3.
	APIBase  string
	TokenURL string
	AuthURL  string
}

// DefaultEndpoints are Google's production URLs.
var DefaultEndpoints = Endpoints{
	APIBase:  "https://www.googleapis.com",
	TokenURL: "https://oauth2.googleapis.com/token",
	AuthURL:  "https://accounts.google.com/o/oauth2/v2/auth",
}

// EndpointsFromBase puts all three on one host, as the drive-emulator serves
// them.
func EndpointsFromBase(base string) Endpoints {
	base = strings.TrimRight(base, "/")
	return Endpoints{APIBase: base, TokenURL: base + "/token", AuthURL: base + "/o/oauth2/v2/auth"}
}

// withDefaults fills empty fields with Google's URLs.
func (e Endpoints) withDefaults() Endpoints {
	if e.APIBase == "" {
		e.APIBase = DefaultEndpoints.APIBase
	}
	if e.TokenURL == "" {
		e.TokenURL = DefaultEndpoints.TokenURL
	}
	if e.AuthURL == "" {
		e.AuthURL = DefaultEndpoints.AuthURL
	}
	e.APIBase = strings.TrimRight(e.APIBase, "/")
	return e
}

func (e Endpoints) driveBase() string  { return e.withDefaults().APIBase + "/drive/v3" }
func (e Endpoints) uploadBase() string { return e.withDefaults().APIBase + "/upload/drive/v3" }

// OAuthConfig is the app's OAuth client for Drive with the drive.file scope.
func OAuthConfig(clientID, clientSecret, redirectURL string, ep Endpoints) *oauth2.Config {
	ep = ep.withDefaults()
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  redirectURL,
		Scopes:       []string{Scope},
		Endpoint: oauth2.Endpoint{
			AuthURL:  ep.AuthURL,
			TokenURL: ep.TokenURL,
			// Google takes the secret in the body; saying so avoids the
			// library's auto-detection (a failed request first).
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// App is the server-wide Google OAuth client and endpoints; connections
// carry only their own tokens and folder.
type App struct {
	ClientID     string
	ClientSecret string
	RedirectURL  string
	Endpoints    Endpoints
}

// OAuthConfig returns the app's OAuth configuration.
func (a App) OAuthConfig() *oauth2.Config {
	return OAuthConfig(a.ClientID, a.ClientSecret, a.RedirectURL, a.Endpoints)
}

// ConsentURL is where the browser goes to connect a Google account: offline
// access with prompt=consent (so Google issues a refresh token even to an
// account that consented before) and a PKCE S256 challenge of verifier
// (keep the verifier server-side with state; see oauth2.GenerateVerifier).
func ConsentURL(cfg *oauth2.Config, state, verifier string) string {
	return cfg.AuthCodeURL(state, oauth2.AccessTypeOffline,
		oauth2.SetAuthURLParam("prompt", "consent"),
		oauth2.SetAuthURLParam("include_granted_scopes", "true"),
		oauth2.S256ChallengeOption(verifier))
}

// ErrNoRefreshToken means Google answered the code exchange without a
// refresh token, so the connection could not work unattended.
var ErrNoRefreshToken = errors.New("Google issued no refresh token: connect the account again and approve offline access")

// Exchange trades the authorization code from the consent redirect for
// tokens, proving the PKCE verifier. It fails when no refresh token comes
// back. Errors never contain the code or a token.
func Exchange(ctx context.Context, cfg *oauth2.Config, code, verifier string) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: newTransport()})
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, tokenError("exchange the authorization code", err)
	}
	if tok.RefreshToken == "" {
		return nil, ErrNoRefreshToken
	}
	return tok, nil
}

// TokenFields splits a token into what a connection stores: the secrets
// (access_token, and refresh_token when present) and the token_expiry
// setting (RFC 3339, empty when the token does not say).
func TokenFields(tok *oauth2.Token) (secrets map[string]string, settings map[string]string) {
	secrets = map[string]string{"access_token": tok.AccessToken}
	if tok.RefreshToken != "" {
		secrets["refresh_token"] = tok.RefreshToken
	}
	settings = map[string]string{"token_expiry": ""}
	if !tok.Expiry.IsZero() {
		settings["token_expiry"] = tok.Expiry.UTC().Format(time.RFC3339)
	}
	return secrets, settings
}

// tokenError turns a token endpoint failure into plain words; invalid_grant
// on a refresh becomes ErrReconnectRequired.
func tokenError(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch re.ErrorCode {
		case "invalid_grant":
			if what == "refresh the access token" {
				return fmt.Errorf("%w (%s)", ErrReconnectRequired, describeOAuth(re))
			}
			return fmt.Errorf("Google refused the authorization code (used, expired or not from this consent): %s", describeOAuth(re))
		case "invalid_client", "unauthorized_client":
			return fmt.Errorf("Google rejected this server's OAuth client ID or secret: %s", describeOAuth(re))
		}
		return fmt.Errorf("Google could not %s: %s", what, describeOAuth(re))
	}
	if isUnreachable(err) {
		return &UnreachableError{Err: err}
	}
	return fmt.Errorf("could not %s with Google: %w", what, err)
}

func describeOAuth(re *oauth2.RetrieveError) string {
	if re.ErrorDescription != "" {
		return re.ErrorCode + ": " + re.ErrorDescription
	}
	if re.ErrorCode != "" {
		return re.ErrorCode
	}
	if re.Response != nil {
		return re.Response.Status
	}
	return "no answer"
}
