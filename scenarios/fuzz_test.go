package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error it returns is
// an ErrorList whose lines all name a position, and that whatever it accepts
// is valid and can be built.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, name := range Presets() {
		data, _ := Preset(name)
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("crowd: {size: 1e3}\ninventory: {daily_capacity: 1, states: [x]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %q is not a non-empty ErrorList", err, err)
			}
			for _, e := range list {
				if e.Line < 1 || e.Column < 1 || !strings.HasPrefix(e.Error(), "fuzz.yaml:") {
					t.Fatalf("error without a position: %q", e)
				}
			}
			return
		}
		if errs := s.Validate(); errs != nil {
			t.Fatalf("Parse accepted an invalid scenario: %v", errs)
		}
		if s.Crowd.Size <= 10_000 && s.NumPPVs()*s.Inventory.Days <= 10_000 {
			inv := s.BuildInventory()
			if errs := inv.Validate(); errs != nil {
				t.Fatalf("inventory of an accepted scenario invalid: %v", errs)
			}
			if got := len(s.Arrivals(1)); got != s.Crowd.Size {
				t.Fatalf("Arrivals: %d users; want %d", got, s.Crowd.Size)
			}
			_ = s.Parameters()
		}
	})
}
