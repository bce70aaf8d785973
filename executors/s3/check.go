package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"backupd/domain"
)

// checkTimeout bounds a whole connection check; reachingTimeout is what the
// plain-words message promises.
const (
	checkTimeout    = 8 * time.Second
	reachingTimeout = 5 * time.Second
)

// Check proves a connection works the way its role needs: a source lists
// the bucket (one key); a destination also writes and deletes a probe
// object under its prefix. A failure is the service's reason in plain words
// on the form field it concerns. The whole check takes at most a few
// seconds, and no reason ever contains the secret.
func Check(ctx context.Context, cfg Config, role domain.Role) domain.Check {
	if err := cfg.Validate(); err != nil {
		return failedCheck(err)
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	client := NewClient(cfg)
	details := map[string]string{"bucket": cfg.Bucket, "endpoint": cfg.endpointHost(), "region": cfg.Region}

	reach, cancelReach := context.WithTimeout(ctx, reachingTimeout)
	_, err := client.ListObjectsV2(reach, &s3.ListObjectsV2Input{Bucket: aws.String(cfg.Bucket), MaxKeys: aws.Int32(1)}, noRetry)
	cancelReach()
	if err != nil {
		return redactCheck(describeCheckError(cfg, "list", err), cfg)
	}
	details["access"] = "list"
	if role != domain.RoleDestination {
		return domain.Check{OK: true, Details: details}
	}

	prefix, _ := normalizePrefix(cfg.Prefix)
	probe := prefix + ".backupd-probe-" + randomHex(6)
	body := []byte("backupd connection check; safe to delete\n")
	_, err = client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(cfg.Bucket), Key: aws.String(probe),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
	}, noRetry)
	if err != nil {
		return redactCheck(describeCheckError(cfg, "write", err), cfg)
	}
	if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(probe)}); err != nil {
		return redactCheck(describeCheckError(cfg, "delete", err), cfg)
	}
	details["access"] = "list, write, delete"
	return domain.Check{OK: true, Details: details}
}

func failedCheck(err error) domain.Check {
	if de, ok := err.(*domain.Error); ok {
		return domain.Check{Reason: de.Message, Field: de.Field}
	}
	return domain.Check{Reason: err.Error()}
}

// describeCheckError turns what S3 (or the network) said into a reason on a
// field. action is what the check was doing: list, write or delete.
func describeCheckError(cfg Config, action string, err error) domain.Check {
	if why := unreachable(err); why != "" {
		return domain.Check{Field: "endpoint", Reason: fmt.Sprintf("cannot reach %s within %d seconds: %s", cfg.endpointHost(), int(reachingTimeout/time.Second), why)}
	}
	switch code := apiCode(err); code {
	case "SignatureDoesNotMatch":
		return domain.Check{Field: "secret_access_key", Reason: "the secret access key is wrong"}
	case "InvalidAccessKeyId", "XAdminUserNotFound": // the second is versitygw's
		return domain.Check{Field: "access_key_id", Reason: "the access key ID is unknown to the service"}
	case "NoSuchBucket":
		return domain.Check{Field: "bucket", Reason: "the bucket does not exist"}
	case "AccessDenied", "Forbidden", "AllAccessDisabled":
		verb := map[string]string{"list": "list", "write": "write to", "delete": "delete from"}[action]
		return domain.Check{Field: "access_key_id", Reason: "access denied: the key may not " + verb + " this bucket"}
	case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
		return domain.Check{Field: "region", Reason: "the bucket is in another region: " + plainMessage(err)}
	case "InvalidBucketName":
		return domain.Check{Field: "bucket", Reason: "the service refuses this bucket name: " + plainMessage(err)}
	case "RequestTimeTooSkewed":
		return domain.Check{Reason: "this server's clock differs too much from the service's"}
	case "":
		if st := httpStatus(err); st != 0 {
			return domain.Check{Field: "endpoint", Reason: fmt.Sprintf("the endpoint answered HTTP %d to a %s request: is it an S3 service?", st, action)}
		}
		return domain.Check{Field: "endpoint", Reason: "cannot talk to " + cfg.endpointHost() + ": " + lastColon(err.Error())}
	default:
		return domain.Check{Reason: fmt.Sprintf("the service refused to %s: %s", action, plainMessage(err))}
	}
}

func plainMessage(err error) string {
	msg := apiMessage(err)
	if msg == "" {
		return apiCode(err)
	}
	return apiCode(err) + ": " + msg
}

// redactCheck is the last line of defence: whatever a service echoes back,
// the secret never leaves in a reason.
func redactCheck(c domain.Check, cfg Config) domain.Check {
	// Very short values would blank out ordinary words of the message; no
	// real secret key is that short.
	if len(cfg.SecretAccessKey) >= 8 {
		c.Reason = strings.ReplaceAll(c.Reason, cfg.SecretAccessKey, "[secret]")
	}
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
