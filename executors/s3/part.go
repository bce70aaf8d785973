package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32cBase64 is the x-amz-checksum-crc32c value of data.
func crc32cBase64(data []byte) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], crc32.Checksum(data, castagnoli))
	return base64.StdEncoding.EncodeToString(b[:])
}

// partRounds is how many times a part is sent again after the SDK's own
// retries (5 attempts with backoff) gave up on a transient failure.
const partRounds = 3

// uploadPart sends one part with its CRC32C, which the server checks before
// it accepts the part. Transient failures are retried; a refusal (the
// upload is gone, access denied) is not.
func uploadPart(ctx context.Context, client *s3.Client, log *slog.Logger, bucket, key, uploadID string, number int32, data []byte) (types.CompletedPart, error) {
	sum := crc32cBase64(data)
	var err error
	for round := 1; round <= partRounds; round++ {
		var out *s3.UploadPartOutput
		pctx, cancel := context.WithTimeout(ctx, partTimeout(int64(len(data))))
		out, err = client.UploadPart(pctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
			PartNumber: aws.Int32(number), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumCRC32C: aws.String(sum),
		})
		cancel()
		if err == nil {
			return types.CompletedPart{PartNumber: aws.Int32(number), ETag: out.ETag, ChecksumCRC32C: aws.String(sum)}, nil
		}
		if ctx.Err() != nil || permanent(err) || round == partRounds {
			break
		}
		log.Warn(fmt.Sprintf("part %d of %s failed (%v); sending it again", number, key, err))
		if sleepCtx(ctx, time.Duration(round)*time.Second) != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return types.CompletedPart{}, fmt.Errorf("part %d of %s: %w", number, key, context.Cause(ctx))
	}
	return types.CompletedPart{}, fmt.Errorf("part %d of %s: %w", number, key, err)
}

// partTimeout bounds one UploadPart call, retries included, assuming no
// worse than 256 KiB/s.
func partTimeout(size int64) time.Duration {
	return 3*time.Minute + time.Duration(size/(256<<10))*time.Second
}

// permanent says a retry cannot help.
func permanent(err error) bool {
	switch apiCode(err) {
	case "NoSuchUpload", "NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"EntityTooLarge", "InvalidPart", "InvalidPartOrder", "InvalidArgument":
		return true
	}
	return errors.Is(err, context.Canceled)
}
