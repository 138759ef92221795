package storeurl

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in     string
		engine string
		shown  string
		check  func(*Spec) bool
	}{
		{in: "", engine: SQLite, shown: "sqlite"},
		{in: "sqlite", engine: SQLite, shown: "sqlite"},
		{in: "postgres://u:secret@127.0.0.1:5432/db?sslmode=disable", engine: PostgreSQL,
			shown: "postgres://u:xxxxx@127.0.0.1:5432/db?sslmode=disable",
			check: func(s *Spec) bool { return len(s.pg.URLs) == 1 && strings.Contains(s.pg.URLs[0], "secret") }},
		{in: "postgresql://u@a:1/db?prefix=run7&sslmode=disable,postgres://u@b:2/db", engine: PostgreSQL,
			shown: "postgresql://u@a:1/db?sslmode=disable,postgres://u@b:2/db",
			check: func(s *Spec) bool {
				return len(s.pg.URLs) == 2 && s.pg.Prefix == "run7" && !strings.Contains(s.pg.URLs[0], "prefix")
			}},
		{in: "postgres://u@h:1/db?options=-c%20a=b,c", engine: PostgreSQL, // a comma inside one URL
			check: func(s *Spec) bool { return len(s.pg.URLs) == 1 }},
		{in: "dynamodb://127.0.0.1:8000", engine: DynamoDB, shown: "dynamodb://127.0.0.1:8000",
			check: func(s *Spec) bool { return s.dynamo.Endpoint == "http://127.0.0.1:8000" }},
		{in: "dynamodb://aws?region=ap-southeast-1&capacity=provisioned:100/50&prefix=sr", engine: DynamoDB,
			check: func(s *Spec) bool {
				return s.dynamo.Endpoint == "" && s.dynamo.Region == "ap-southeast-1" &&
					s.dynamo.Capacity == "provisioned:100/50" && s.dynamo.Table == "sr"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if s.Engine != tt.engine || (tt.shown != "" && s.String() != tt.shown) {
				t.Errorf("Parse = %s %q; want %s %q", s.Engine, s, tt.engine, tt.shown)
			}
			if tt.check != nil && !tt.check(s) {
				t.Errorf("Parse = %+v", s)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mysql://x", `unknown engine "mysql"`},
		{"./data", `unknown engine "./data"`},
		{"postgres://u:hunter2@/db", "has no host"},
		{"postgres://h:1/db,mysql://x", "shards must all be postgres://"},
		{"postgres://h:1/db?prefix=Bad-Name", `prefix="Bad-Name"`},
		{"dynamodb://localhost", "want dynamodb://HOST:PORT"},
		{"dynamodb://aws/tbl", "has no path"},
		{"dynamodb://aws?mode=x", `unknown parameter "mode"`},
		{"dynamodb://aws?capacity=provisioned:0/5", `capacity units "0"`},
		{"dynamodb://aws?capacity=fast", "want on-demand or provisioned:R/W"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) err = %v; want it to contain %q", tt.in, err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// FuzzParse checks that Parse never panics and never shows a password.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"sqlite", "postgres://u:pw@h:1/db", "postgres://a/b,postgres://c/d", "dynamodb://aws?region=x", "dynamodb://h:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := Parse(s)
		if err != nil {
			return
		}
		if sp.Engine == PostgreSQL && strings.Contains(s, ":pw@") && strings.Contains(sp.String(), ":pw@") {
			t.Errorf("String() = %q shows the password", sp.String())
		}
	})
}
