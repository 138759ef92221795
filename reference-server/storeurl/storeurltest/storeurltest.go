// Package storeurltest gives tests a --store URL of each engine: SQLite
// always, PostgreSQL and DynamoDB when their test servers are named by
// SLOTRUSH_TEST_POSTGRES and SLOTRUSH_TEST_DYNAMODB (scripts/start-postgres.sh
// and scripts/start-dynamodb.sh start them and print the lines). Without
// them a test skips, saying how to run it; under CI=true it fails instead.
package storeurltest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/storeurl"
)

// Engines are the engines a test can ask URL for.
var Engines = []string{storeurl.SQLite, storeurl.PostgreSQL, storeurl.DynamoDB}

// env names each server engine's test variable and the script that starts it.
var env = map[string][2]string{
	storeurl.PostgreSQL: {"SLOTRUSH_TEST_POSTGRES", "scripts/start-postgres.sh"},
	storeurl.DynamoDB:   {"SLOTRUSH_TEST_DYNAMODB", "scripts/start-dynamodb.sh"},
}

// URL returns a --store value of engine for t: "sqlite" for SQLite, else
// the test server's URL with a prefix unique to this call, so that tests
// running at once do not share schemas or tables. At cleanup it drops what
// the designs of every scheme left there. It skips t (fails it under
// CI=true) when the engine's test server is not named.
func URL(t testing.TB, engine string) string {
	t.Helper()
	if engine == storeurl.SQLite {
		return "sqlite"
	}
	e, ok := env[engine]
	if !ok {
		t.Fatalf("storeurltest: unknown engine %q", engine)
	}
	base := os.Getenv(e[0])
	if base == "" {
		msg := fmt.Sprintf("%s tests need a server: eval \"export $(%s)\" starts one and sets %s", engine, e[1], e[0])
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s=%q: %v", e[0], base, err)
	}
	q := u.Query()
	q.Set("prefix", "t"+strings.ToLower(rand.Text()[:12]))
	u.RawQuery = q.Encode()
	spec, err := storeurl.Parse(u.String())
	if err != nil {
		t.Fatalf("%s=%q: %v", e[0], base, err)
	}
	t.Cleanup(func() { drop(t, spec) })
	return u.String()
}

// drop removes the schemas or tables the designs of every scheme may have
// made under spec.
func drop(t testing.TB, spec *storeurl.Spec) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range models.Schemes {
		d, err := models.ParseDesign(string(s), models.Limits{})
		if err != nil {
			t.Errorf("drop: %v", err)
			continue
		}
		if err := spec.Reset(ctx, d); err != nil {
			t.Errorf("drop %s of %s: %v", s, spec, err)
		}
	}
}
