package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestParseLimits checks that files beyond the limits on size, nesting,
// keys and documents are refused before parsing, at once, with one error
// naming the limit where the file crosses it; and that files inside them
// reach the checker as before.
func TestParseLimits(t *testing.T) {
	t.Parallel()
	rep := strings.Repeat
	stairs := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(rep(" ", i) + "a:\n")
		}
		return b.String()
	}
	keys := func(n int, flow bool) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = "k" + strconv.Itoa(i) + ": 1"
		}
		if flow {
			return "{" + strings.Join(parts, ", ") + "}\n"
		}
		return strings.Join(parts, "\n") + "\n"
	}
	const (
		depth = "nested more than 64 levels deep (lists and mappings inside one another), the limit for a scenario, which needs about 5: is a closing ']' or '}' missing?"
		many  = "more than 100 keys in one mapping, the limit for a scenario (its mappings have at most 11 fields): is a line indented wrongly?"
		docs  = "more than 16 YAML documents (---), the limit; want one scenario per file"
		size  = "file larger than 1 MiB (1,048,576 bytes), the limit for a scenario file, which it passes here; is this a scenario?"
		ok    = "inventory: {daily_capacity: 1, states: [x]}\ncrowd: {size: 1}\n"
	)
	for _, tt := range []struct{ name, data, want string }{
		// The file: 200 KB of "[" took 40 s and 15 GB.
		{"100,000 [", rep("[", 100_000), "t.yaml:1:64: " + depth},
		{"flow mappings", "a: " + rep("{a: ", 10_000), "t.yaml:1:256: " + depth},
		{"flow after a key", "crowd:\n  arrival: " + rep("[", 1000), "t.yaml:2:74: " + depth},
		{"block lists on a line", rep("- ", 10_000) + "x\n", "t.yaml:1:129: " + depth},
		{"indentation", stairs(1000), "t.yaml:65:65: " + depth},
		{"a quoted ']' closes nothing", `a: ["]", ` + rep("[", 100), "t.yaml:1:72: " + depth},
		{"JSON-like key", `{"a":"["` + rep("[", 100), "t.yaml:1:71: " + depth},
		{"keys", keys(1000, false), "t.yaml:101:1: " + many},
		// The raw scan leaves flow mappings' keys to the lexer's tokens.
		{"flow keys", keys(1000, true), "t.yaml:1:792: " + many},
		{"documents", rep("---\nname: x\n", 100), "t.yaml:33:1: " + docs},
		{"size", rep("# a comment line\n", MaxFileSize/17+1), "t.yaml:61681:17: " + size},
		// Inside the limits: the checker's own errors, as before.
		{"63 levels", rep("[", 63) + rep("]", 63), "t.yaml:1:1: want a mapping of fields, got a list"},
		{"brackets in a block scalar", ok + "description: |\n  " + rep("[", 100) + "\nsead: 1\n", "t.yaml:5:1: sead: unknown field (did you mean \"seed\"?)"},
		{"brackets in comments and quotes", ok + "# " + rep("[", 100) + "\nname: '" + rep("{", 100) + "'\nsead: 1\n", "t.yaml:5:1: sead: unknown field (did you mean \"seed\"?)"},
		{"brackets in plain text", ok + "description: see [1] and [" + rep("[", 100) + "\nsead: 1\n", "t.yaml:4:1: sead: unknown field (did you mean \"seed\"?)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, err := Parse("t.yaml", []byte(tt.data))
			took := time.Since(start)
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse = %v; want an ErrorList", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Parse(%.30q...) =\n  %s\nwant\n  %s", tt.data, got, tt.want)
			}
			// Generous, for a loaded machine under -race: the point is
			// seconds or minutes before.
			if took > 2*time.Second {
				t.Errorf("Parse(%.30q...) took %v; want well under a second", tt.data, took)
			}
		})
	}
}

// TestLoadReadsAtMostTheLimit checks that Load does not read a huge file
// whole: it reads one byte beyond MaxFileSize, enough to refuse it.
func TestLoadReadsAtMostTheLimit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "huge.yaml")
	if err := os.WriteFile(path, []byte(strings.Repeat("#\n", 3*MaxFileSize/2)), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := readFile(path)
	if err != nil || len(data) != MaxFileSize+1 {
		t.Fatalf("readFile(%d bytes) = %d bytes, %v; want %d", 3*MaxFileSize, len(data), err, MaxFileSize+1)
	}
	_, err = Load(path)
	want := path + ":524289:1: file larger than 1 MiB (1,048,576 bytes), the limit for a scenario file, which it passes here; is this a scenario?"
	if err == nil || err.Error() != want {
		t.Errorf("Load(huge) = %v; want %s", err, want)
	}
}
