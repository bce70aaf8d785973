package gdrive

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/api/googleapi"
)

// ErrQuotaExceeded matches (errors.Is) a Drive refusal for lack of storage
// or because the daily upload limit is used up. It is permanent for the
// operation: retrying does not help.
var ErrQuotaExceeded = errors.New("Google Drive quota exceeded")

// ErrSessionExpired means the resumable upload session is gone (cancelled,
// or older than Google's one week): the archive must start over.
var ErrSessionExpired = errors.New("the Google Drive upload session has expired or was cancelled; the archive has to be uploaded again from the start")

// ErrStoredDiffers means Drive holds other bytes than were written (size or
// SHA-256): a resumed upload whose skipped bytes were not what the session
// held, say. The file is removed; the archive has to be uploaded again.
var ErrStoredDiffers = errors.New("Google Drive holds other bytes than were written")

// APIError is an error answer from Drive, in Google's words.
type APIError struct {
	Status     int
	Reason     string // first errors[].reason, e.g. storageQuotaExceeded
	Message    string
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Reason != "" {
		return fmt.Sprintf("Google Drive: %s (%d %s)", msg, e.Status, e.Reason)
	}
	return fmt.Sprintf("Google Drive: %s (%d)", msg, e.Status)
}

// Is makes errors.Is(err, ErrQuotaExceeded) true for quota refusals.
func (e *APIError) Is(target error) bool {
	return target == ErrQuotaExceeded && e.quota()
}

func (e *APIError) quota() bool {
	switch e.Reason {
	case "storageQuotaExceeded", "userRateLimitExceeded", "dailyLimitExceeded", "quotaExceeded", "uploadLimitExceeded":
		return true
	}
	return false
}

// transient says whether the request may succeed if tried again.
func (e *APIError) transient() bool {
	switch {
	case e.quota():
		return false
	case e.Status == http.StatusTooManyRequests, e.Status >= 500:
		return true
	case e.Status == http.StatusForbidden && (e.Reason == "rateLimitExceeded" || e.Reason == "backendError"):
		return true
	case e.Status == http.StatusRequestTimeout:
		return true
	}
	return false
}

// UnreachableError means Google could not be reached at all (DNS, refused
// connection, timeout), as opposed to Google answering with an error.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string {
	return "cannot reach Google Drive within 5 seconds: " + describeNetErr(e.Err)
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// readAPIError parses Google's error body from a non-2xx response and closes
// it.
func readAPIError(resp *http.Response) *APIError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &APIError{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header)}
	var doc struct {
		Error struct {
			Message string `json:"message"`
			Errors  []struct {
				Reason  string `json:"reason"`
				Message string `json:"message"`
			} `json:"errors"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil {
		e.Message = doc.Error.Message
		if len(doc.Error.Errors) > 0 {
			e.Reason = doc.Error.Errors[0].Reason
			if e.Message == "" {
				e.Message = doc.Error.Errors[0].Message
			}
		}
	}
	return e
}

// fromGoogleAPI converts the library's error type to ours.
func fromGoogleAPI(err error) error {
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return err
	}
	e := &APIError{Status: ge.Code, Message: ge.Message, RetryAfter: retryAfter(ge.Header)}
	if len(ge.Errors) > 0 {
		e.Reason = ge.Errors[0].Reason
		if e.Message == "" {
			e.Message = ge.Errors[0].Message
		}
	}
	return e
}

func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// retryable classifies an error for the pacer: Drive's transient answers
// and broken connections are retried, everything else is final.
func retryable(err error) (bool, time.Duration) {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ErrReconnectRequired) || errors.Is(err, ErrSessionExpired) {
		return false, 0
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.transient(), ae.RetryAfter
	}
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return true, 0
	}
	if isTokenFailure(err) || isCertError(err) {
		return false, 0
	}
	var te *transportError
	var urlErr *url.Error
	if errors.As(err, &te) || errors.As(err, &urlErr) || errors.Is(err, errNoProgress) {
		return true, 0
	}
	return false, 0
}

func isCertError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &verify)
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isUnreachable: no connection could be made (or nothing answered).
func isUnreachable(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &dns):
		return true
	case errors.As(err, &op) && op.Op == "dial":
		return true
	case isNetTimeout(err):
		return true
	}
	return false
}

func describeNetErr(err error) string {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &dns):
		return "the host name " + dns.Name + " does not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		if errors.As(err, &op) && op.Addr != nil {
			return "connection refused by " + op.Addr.String()
		}
		return "connection refused"
	case isNetTimeout(err), errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	}
	return stripURL(err).Error()
}

// stripURL drops the request URL that net/http puts in its errors: for a
// resumable session the URL is a credential and must not reach a log.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

// newTransport is an HTTP transport with the timeouts a backup needs: a
// dead host is noticed within 5 seconds, a silent server within two
// minutes of the request being sent.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = 2 * time.Minute
	t.MaxIdleConnsPerHost = 8
	return t
}
