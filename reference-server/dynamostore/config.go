package dynamostore

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/slotrush/slotrush/models"
)

// DefaultTable is the table name prefix when Config.Table is empty.
const DefaultTable = "slotrush"

// LocalRegion is the region used with a custom endpoint when Config.Region
// is empty.
const LocalRegion = "us-east-1"

// Config says where the store's tables are. The zero Config means DynamoDB
// on AWS, configured from the standard environment, with on-demand tables
// named slotrush-<scheme>.
type Config struct {
	// Endpoint is the base URL of a DynamoDB-API endpoint, such as
	// "http://127.0.0.1:8000" for DynamoDB Local, used with static dummy
	// credentials. Empty means DynamoDB on AWS, with the region and the
	// credentials of the standard environment (AWS_REGION, AWS_PROFILE,
	// AWS_ACCESS_KEY_ID, an instance role...).
	Endpoint string
	// Region overrides the region (default: the environment's on AWS,
	// LocalRegion with an Endpoint).
	Region string
	// Table is the prefix of the table names: a design's table is
	// "<Table>-<scheme>". Default DefaultTable.
	Table string
	// TableName, when set, is the table to use whatever the design's
	// scheme, in place of "<Table>-<scheme>" (tests give each store a table
	// of its own this way). Its meta item then names the one scheme it
	// holds.
	TableName string
	// Capacity is the capacity mode of the tables Open creates:
	// "on-demand" (PAY_PER_REQUEST, the default) or "provisioned:R/W"
	// with R read and W write capacity units. It does not change an
	// existing table.
	Capacity string
}

// tableName matches what DynamoDB accepts as a table name.
var tableName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// withDefaults returns c with its empty fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if c.Capacity == "" {
		c.Capacity = "on-demand"
	}
	if c.Endpoint != "" && c.Region == "" {
		c.Region = LocalRegion
	}
	c.Endpoint = strings.TrimRight(c.Endpoint, "/")
	return c
}

// Validate returns every problem of c (after defaults).
func (c Config) Validate() []error {
	c = c.withDefaults()
	var errs []error
	if _, _, err := c.capacity(); err != nil {
		errs = append(errs, err)
	}
	if !tableName.MatchString(c.Table + "-" + string(models.PerPPVDay)) {
		errs = append(errs, fmt.Errorf("table prefix %q: want letters, digits, '_', '-' or '.'", c.Table))
	}
	if c.TableName != "" && !tableName.MatchString(c.TableName) {
		errs = append(errs, fmt.Errorf("table name %q: want 3 to 255 letters, digits, '_', '-' or '.'", c.TableName))
	}
	if c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		errs = append(errs, fmt.Errorf("endpoint %q: want an http:// or https:// URL", c.Endpoint))
	}
	return errs
}

// table returns the table of scheme s.
func (c Config) table(s models.Scheme) string {
	if c.TableName != "" {
		return c.TableName
	}
	return c.Table + "-" + string(s)
}

// capacity parses c.Capacity.
func (c Config) capacity() (types.BillingMode, *types.ProvisionedThroughput, error) {
	spec := c.Capacity
	if spec == "" || spec == "on-demand" {
		return types.BillingModePayPerRequest, nil, nil
	}
	rw, ok := strings.CutPrefix(spec, "provisioned:")
	r, w, ok2 := strings.Cut(rw, "/")
	if !ok || !ok2 {
		return "", nil, fmt.Errorf("capacity %q: want \"on-demand\" or \"provisioned:R/W\"", spec)
	}
	rcu, err1 := strconv.ParseInt(r, 10, 64)
	wcu, err2 := strconv.ParseInt(w, 10, 64)
	if err := errors.Join(err1, err2); err != nil || rcu < 1 || wcu < 1 {
		return "", nil, fmt.Errorf("capacity %q: want positive whole read and write capacity units", spec)
	}
	return types.BillingModeProvisioned, &types.ProvisionedThroughput{
		ReadCapacityUnits: aws.Int64(rcu), WriteCapacityUnits: aws.Int64(wcu),
	}, nil
}

// where names the engine and its endpoint for messages: "dynamodb at
// http://127.0.0.1:8000" or "dynamodb on AWS (eu-west-1)".
func (c Config) where() string { return "dynamodb " + c.place() }

// place is where without the engine's name.
func (c Config) place() string {
	switch {
	case c.Endpoint != "":
		return "at " + c.Endpoint
	case c.Region == "":
		return "on AWS"
	}
	return "on AWS (" + c.Region + ")"
}
