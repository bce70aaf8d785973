package s3

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// ErrUploadGone is returned by ResumeUpload when the multipart upload no
// longer exists at the server (aborted, completed, or expired by a bucket
// lifecycle rule): the archive must start again.
var ErrUploadGone = errors.New("the multipart upload no longer exists at the destination")

// ErrUnsafeKey is returned by TargetKey for a key that could leave the
// target prefix when a server or a tool reads it as a path.
var ErrUnsafeKey = errors.New("the key could escape the target prefix")

// apiCode is S3's error code ("NoSuchBucket", "SignatureDoesNotMatch"), or
// "" when err did not come from the service.
func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// apiMessage is the service's own message for err, if any.
func apiMessage(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return ""
}

// httpStatus is the response's status code, 0 when there was no response.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// isNotFound is true for a missing key or a HEAD's bodiless 404.
func isNotFound(err error) bool {
	switch apiCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	}
	return httpStatus(err) == 404 && apiCode(err) != "NoSuchBucket" && apiCode(err) != "NoSuchUpload"
}

func isNoSuchUpload(err error) bool { return apiCode(err) == "NoSuchUpload" }

func isPreconditionFailed(err error) bool {
	return apiCode(err) == "PreconditionFailed" || httpStatus(err) == 412
}

func isInvalidRange(err error) bool {
	return apiCode(err) == "InvalidRange" || httpStatus(err) == 416
}

// notFound wraps err so callers can test errors.Is(err, fs.ErrNotExist)
// without knowing which destination they talk to.
func notFound(what string, err error) error {
	return fmt.Errorf("%s does not exist: %w (%w)", what, fs.ErrNotExist, err)
}

// unreachable describes a failure to reach the server at all, in plain
// words ("connection refused", "no such host", "timed out"), or "" when err
// is something else (the server answered).
func unreachable(err error) string {
	if err == nil || httpStatus(err) != 0 {
		return ""
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "no such host"
		}
		return "the host name could not be resolved"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host"
	case errors.Is(err, syscall.ECONNRESET):
		return "the connection was reset"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return "timed out"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Err.Error()
	}
	if strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:") {
		return "TLS failed: " + lastColon(err.Error())
	}
	return ""
}

func lastColon(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}
