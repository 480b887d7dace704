package s3

import (
	"context"
	"errors"
	"fmt"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Sentinels matched (with errors.Is) by the *RequestError of a failed
// request.
var (
	// ErrPermanent: the store refused the request in a way that retrying
	// it cannot change while the configuration and the store stay as they
	// are (a missing bucket, wrong credentials, no permission, a request
	// the store does not implement). Transient failures (5xx, throttling,
	// timeouts, connection errors) are not ErrPermanent. The sink bolt
	// still retries both (with backoff, reporting each error): a bucket
	// may be created and a key rotated while batches wait.
	ErrPermanent = errors.New("refused for good: retrying cannot help until the configuration or the store changes")
	// ErrNoSuchBucket: the bucket does not exist.
	ErrNoSuchBucket = errors.New("no such bucket")
	// ErrAccessDenied: the store refused the credentials (an unknown
	// access key, a wrong secret key) or they lack a permission.
	ErrAccessDenied = errors.New("access denied: wrong or unknown credentials, or a missing permission")
)

// RequestError is a failed S3 request. Its message holds the operation,
// the object, the HTTP status and the S3 error code, never a credential.
type RequestError struct {
	// Op is the S3 operation ("PutObject", "UploadPart 2/3", ...).
	Op string
	// Bucket and Key name the object ("" for a request on the bucket).
	Bucket, Key string
	// Status is the HTTP status; 0 when no response came (a timeout, a
	// connection error, a canceled context).
	Status int
	// Code is the S3 error code ("NoSuchBucket", "SlowDown", ...); ""
	// when there is none.
	Code string
	// Err is the SDK's error.
	Err error
}

func (e *RequestError) Error() string {
	where := "s3://" + e.Bucket
	if e.Key != "" {
		where += "/" + e.Key
	}
	switch {
	case e.Status != 0 && e.Code != "":
		return fmt.Sprintf("%s %s: %d %s: %v", e.Op, where, e.Status, e.Code, e.Err)
	case e.Status != 0:
		return fmt.Sprintf("%s %s: HTTP %d: %v", e.Op, where, e.Status, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Op, where, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// Is matches ErrPermanent, ErrNoSuchBucket and ErrAccessDenied.
func (e *RequestError) Is(target error) bool {
	switch target {
	case ErrPermanent:
		return e.Permanent()
	case ErrNoSuchBucket:
		return e.Code == "NoSuchBucket"
	case ErrAccessDenied:
		return accessCodes[e.Code] || e.Code == "" && e.Status == 403
	}
	return false
}

// accessCodes are the codes of refused credentials or permissions
// ("Forbidden": a HEAD request's 403, which has no body).
var accessCodes = map[string]bool{"AccessDenied": true, "InvalidAccessKeyId": true,
	"SignatureDoesNotMatch": true, "Forbidden": true, "ExpiredToken": true, "InvalidToken": true}

// transientCodes are 4xx codes that a later attempt of the batch can
// overcome: throttling, clock skew (the SDK corrects it), an upload gone
// (the next attempt starts another one), a body damaged on the way.
var transientCodes = map[string]bool{"RequestTimeout": true, "RequestTimeTooSkewed": true, "SlowDown": true,
	"Throttling": true, "ThrottlingException": true, "TooManyRequests": true, "RequestLimitExceeded": true,
	"OperationAborted": true, "NoSuchUpload": true, "BadDigest": true, "IncompleteBody": true,
	"XAmzContentSHA256Mismatch": true, "InternalError": true, "ServiceUnavailable": true}

// Permanent tells whether retrying cannot succeed while the configuration
// and the store stay as they are (see ErrPermanent): a 4xx (but 408, 429
// and the transient codes) or a 501.
func (e *RequestError) Permanent() bool {
	if transientCodes[e.Code] {
		return false
	}
	switch {
	case e.Status == 0:
		return false
	case e.Status == 408 || e.Status == 429:
		return false
	case e.Status >= 400 && e.Status < 500:
		return true
	}
	return e.Status == 501
}

// requestError wraps err, the error of op on key, in a *RequestError with
// the HTTP status and the S3 code the SDK found.
func requestError(op, bucket, key string, err error) *RequestError {
	re := &RequestError{Op: op, Bucket: bucket, Key: key, Err: err}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		re.Status = resp.HTTPStatusCode()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		re.Code = api.ErrorCode()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		re.Status, re.Code = 0, ""
	}
	return re
}
