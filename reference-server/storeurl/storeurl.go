// Package storeurl reads the --store flag of slotrush serve and run: a URL
// whose scheme picks the storage engine behind the reference server.
//
//	sqlite                                   the embedded default: SQLite files under --data
//	postgres://USER@HOST:PORT/DB[?...]       PostgreSQL (postgresql:// too); pgx connection parameters pass through
//	postgres://A/DB,postgres://B/DB          PostgreSQL shards: partitions spread over them
//	dynamodb://HOST:PORT                     a DynamoDB API endpoint over plain HTTP (DynamoDB Local)
//	dynamodb://aws[?region=REGION]           AWS DynamoDB: region and credentials from the standard AWS environment
//
// Query parameters slotrush reads (and removes before the driver sees the
// URL): prefix=NAME names the schemas (PostgreSQL, NAME_SCHEME) or tables
// (DynamoDB, NAME-SCHEME), default "slotrush"; on DynamoDB, capacity=on-demand
// (the default) or capacity=provisioned:R/W sets the capacity mode of the
// tables it creates, and region=REGION the region.
package storeurl

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/dynamostore"
	"github.com/slotrush/slotrush/reference-server/pgstore"
	"github.com/slotrush/slotrush/reference-server/sqlitestore"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Engines a Spec names.
const (
	SQLite     = "sqlite"
	PostgreSQL = "postgresql"
	DynamoDB   = "dynamodb"
)

// Spellings lists the accepted forms of --store, for messages.
const Spellings = "sqlite, postgres://USER@HOST:PORT/DB, dynamodb://HOST:PORT (DynamoDB Local) or dynamodb://aws"

// Spec is a parsed --store value.
type Spec struct {
	// Engine is SQLite, PostgreSQL or DynamoDB.
	Engine string
	pg     pgstore.Config
	dynamo dynamostore.Config
	shown  string // the value with passwords removed
}

// prefixRE is what a schema or table prefix may hold: it becomes part of
// SQL identifiers and DynamoDB table names.
var prefixRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,29}$`)

// Parse reads a --store value; an empty value is SQLite. Its errors name
// the part that is wrong and the accepted spellings.
func Parse(s string) (*Spec, error) {
	switch {
	case s == "" || s == "sqlite" || s == "sqlite:" || s == "sqlite://":
		return &Spec{Engine: SQLite, shown: "sqlite"}, nil
	case strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://"):
		return parsePostgres(s)
	case strings.HasPrefix(s, "dynamodb://"):
		return parseDynamo(s)
	}
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		scheme = s
	}
	return nil, fmt.Errorf("--store %q: unknown engine %q; use %s", redact(s), scheme, Spellings)
}

// parsePostgres reads one PostgreSQL URL or several, comma-separated.
func parsePostgres(s string) (*Spec, error) {
	sp := &Spec{Engine: PostgreSQL}
	var shown []string
	for i, raw := range splitURLs(s) {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("--store: PostgreSQL URL %d (%s): %w", i+1, redact(raw), unwrapURLError(err))
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return nil, fmt.Errorf("--store: URL %d (%s) is not a postgres:// URL; shards must all be PostgreSQL", i+1, redact(raw))
		}
		if strings.Contains(u.Path, "://") || strings.Contains(u.RawQuery, "://") {
			return nil, fmt.Errorf("--store: PostgreSQL URL %d (%s) holds another URL; shards must all be postgres:// URLs", i+1, redact(raw))
		}
		if u.Host == "" {
			return nil, fmt.Errorf("--store: PostgreSQL URL %d (%s) has no host; want postgres://USER@HOST:PORT/DB", i+1, redact(raw))
		}
		q := u.Query()
		if p := q.Get("prefix"); p != "" {
			if !prefixRE.MatchString(p) {
				return nil, fmt.Errorf("--store: prefix=%q: want a lower-case letter then up to 29 letters, digits or _", p)
			}
			sp.pg.Prefix = p
		}
		q.Del("prefix")
		u.RawQuery = q.Encode()
		sp.pg.URLs = append(sp.pg.URLs, u.String())
		shown = append(shown, u.Redacted())
	}
	sp.shown = strings.Join(shown, ",")
	return sp, nil
}

// splitURLs splits a comma-separated list of postgres:// URLs. A comma
// that does not start another postgres URL belongs to the URL before it.
func splitURLs(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ',' {
			continue
		}
		rest := s[i+1:]
		if strings.HasPrefix(rest, "postgres://") || strings.HasPrefix(rest, "postgresql://") {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parseDynamo reads dynamodb://HOST:PORT or dynamodb://aws.
func parseDynamo(s string) (*Spec, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("--store %q: %w", redact(s), unwrapURLError(err))
	}
	sp := &Spec{Engine: DynamoDB, shown: u.Redacted()}
	switch {
	case u.Host == "aws":
	case u.Port() == "" || u.Hostname() == "":
		return nil, fmt.Errorf("--store %q: want dynamodb://HOST:PORT for an endpoint over plain HTTP (such as DynamoDB Local) or dynamodb://aws for AWS", s)
	default:
		sp.dynamo.Endpoint = "http://" + u.Host
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("--store %q: a DynamoDB URL has no path (%q); name tables with ?prefix=NAME", s, u.Path)
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "region", "prefix", "capacity":
		default:
			return nil, fmt.Errorf("--store %q: unknown parameter %q; DynamoDB takes region, prefix and capacity", s, k)
		}
	}
	sp.dynamo.Region = q.Get("region")
	if p := q.Get("prefix"); p != "" {
		if !prefixRE.MatchString(p) {
			return nil, fmt.Errorf("--store: prefix=%q: want a lower-case letter then up to 29 letters, digits or _", p)
		}
		sp.dynamo.Table = p
	}
	if c := q.Get("capacity"); c != "" {
		if err := checkCapacity(c); err != nil {
			return nil, fmt.Errorf("--store: capacity=%q: %w", c, err)
		}
		sp.dynamo.Capacity = c
	}
	return sp, nil
}

// checkCapacity checks a DynamoDB capacity mode: on-demand or
// provisioned:R/W with positive read and write capacity units.
func checkCapacity(c string) error {
	if c == "on-demand" {
		return nil
	}
	units, ok := strings.CutPrefix(c, "provisioned:")
	r, w, ok2 := strings.Cut(units, "/")
	if !ok || !ok2 {
		return fmt.Errorf("want on-demand or provisioned:R/W (read and write capacity units)")
	}
	for _, x := range []string{r, w} {
		if n, err := strconv.ParseInt(x, 10, 64); err != nil || n < 1 {
			return fmt.Errorf("capacity units %q: want a whole number of at least 1", x)
		}
	}
	return nil
}

// unwrapURLError drops net/url's repetition of the whole URL, which may
// hold a password.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// redact removes a password from s when s parses as a URL.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return "…" + s[i:]
	}
	return s
}

// String returns the value with any password removed.
func (s *Spec) String() string { return s.shown }

// Shared reports whether several API servers may share the store.
func (s *Spec) Shared() bool { return s.Engine != SQLite }

// Opener returns the opener of the store the spec names. SQLite stores
// live under the directory given to the opener; the others ignore it.
func (s *Spec) Opener() store.Opener {
	switch s.Engine {
	case PostgreSQL:
		return pgstore.Opener(s.pg)
	case DynamoDB:
		return dynamostore.Opener(s.dynamo)
	}
	return sqlitestore.Opener()
}

// Reset removes the data design d keeps in a PostgreSQL or DynamoDB store
// (its schema or table), so that the next open starts fresh; slotrush run
// does this before each design. SQLite data directories are removed by the
// caller.
func (s *Spec) Reset(ctx context.Context, d models.Design) error {
	switch s.Engine {
	case PostgreSQL:
		return pgstore.Drop(ctx, s.pg, d)
	case DynamoDB:
		return dynamostore.Drop(ctx, s.dynamo, d)
	}
	return nil
}
