package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// pingTimeout bounds Open's first request: an endpoint that does not answer
// within it is reported unreachable.
const pingTimeout = 5 * time.Second

// clients are the store's two DynamoDB clients over one HTTP transport.
type clients struct {
	// strict books and answers the server's reads: bounded retries, no
	// retry of throttling (see newStrictRetryer).
	strict *dynamodb.Client
	// patient sets up tables, scans and audits: the SDK's standard
	// retryer with 10 attempts, throttling included.
	patient *dynamodb.Client
	// transport is closed (its idle connections) by Store.Close.
	transport *http.Transport
}

// strictRetryables are the only errors the strict client retries: those
// after which resending the same request is safe and likely to succeed.
// Resending a TransactWriteItems is safe because it carries a
// ClientRequestToken.
var strictRetryables = []retry.IsErrorRetryable{
	retry.NoRetryCanceledError{},
	retry.RetryableConnectionError{},
	retry.RetryableHTTPStatusCode{Codes: retry.DefaultRetryableHTTPStatusCodes},
	retry.RetryableErrorCode{Codes: map[string]struct{}{
		"RequestTimeout": {}, "RequestTimeoutException": {}, "InternalServerError": {},
		"TransactionInProgressException": {},
	}},
}

// newStrictRetryer returns the retryer of the booking path: at most 3
// attempts, 25 ms base backoff with jitter (at most 1 s), no client-side
// retry quota (so that an outcome does not depend on past failures), and no
// retry of throttling errors, which Book maps to store.ErrThrottled.
func newStrictRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.BaseDelay = 25 * time.Millisecond
		o.MaxBackoff = time.Second
		o.RateLimiter = ratelimit.None
		o.Retryables = append([]retry.IsErrorRetryable(nil), strictRetryables...)
	})
}

// newPatientRetryer returns the retryer of setup, scans and audits: the
// SDK's standard one (throttling included) with 10 attempts and no quota.
func newPatientRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 10
		o.BaseDelay = 25 * time.Millisecond
		o.MaxBackoff = 5 * time.Second
		o.RateLimiter = ratelimit.None
	})
}

// newClients builds the clients of c (after defaults). With an endpoint
// they use static dummy credentials; on AWS, the standard environment's,
// and an error says what is missing.
func newClients(ctx context.Context, c Config) (*clients, error) {
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(awshttp.NewBuildableClient())}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Endpoint != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("slotrush", "slotrush", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: load AWS configuration: %w", c.where(), err)
	}
	// Take the transport as configured (AWS_CA_BUNDLE, say) to own it:
	// enough idle connections for concurrent bookings, closed by Close.
	bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		return nil, fmt.Errorf("%s: unexpected HTTP client %T", c.where(), cfg.HTTPClient)
	}
	tr := bc.GetTransport()
	tr.MaxIdleConns = 1024
	tr.MaxIdleConnsPerHost = 1024
	cfg.HTTPClient = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if cfg.Region == "" {
		return nil, fmt.Errorf("%s: no region: set AWS_REGION (or AWS_DEFAULT_REGION, a profile's region, Config.Region)", c.where())
	}
	if c.Endpoint == "" {
		cctx, cancel := context.WithTimeout(ctx, pingTimeout)
		_, err := cfg.Credentials.Retrieve(cctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with an instance role: %w",
				Config{Region: cfg.Region}.where(), err)
		}
	}
	build := func(r func() aws.Retryer) *dynamodb.Client {
		return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			if c.Endpoint != "" {
				o.BaseEndpoint = aws.String(c.Endpoint)
			}
			o.Retryer = r()
			o.RetryMaxAttempts = 0 // AWS_MAX_ATTEMPTS must not wrap the retryers
			// The SDK's CRC32 check of responses (service/dynamodb
			// v1.74.0) wraps the body after it was decoded: it checks
			// nothing and logs a mismatch warning per response.
			o.DisableValidateResponseChecksum = true
		})
	}
	return &clients{strict: build(newStrictRetryer), patient: build(newPatientRetryer), transport: tr}, nil
}

// ping checks that the endpoint answers, within pingTimeout, and returns an
// error naming the engine, the endpoint and what to check.
func ping(ctx context.Context, c Config, db *dynamodb.Client) error {
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	_, err := db.ListTables(pctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", c.where(), ctx.Err())
	}
	cause := err.Error()
	var nerr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		cause = "connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		cause = fmt.Sprintf("no answer within %v", pingTimeout)
	}
	if c.Endpoint != "" {
		return fmt.Errorf("%s: %s: is DynamoDB Local running (scripts/start-dynamodb.sh)? %w", c.where(), cause, errUnreachable)
	}
	return fmt.Errorf("%s: %s: check AWS_REGION, the credentials and the network: %w", c.where(), cause, errUnreachable)
}

// errUnreachable is wrapped by ping's errors.
var errUnreachable = errors.New("engine unreachable")
