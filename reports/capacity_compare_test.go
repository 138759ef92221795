package reports

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

func TestCompareCapacity(t *testing.T) {
	t.Parallel()
	designs := []string{"monolithic", "per-ppv", "per-ppv-day"}
	base := capacityFixture(t, "errors<=1%", designs, []float64{0.5, 2, 4})
	tests := []struct {
		name  string
		knees []float64
		drop  float64
		want  []Status
	}{
		{"same", []float64{0.5, 2, 4}, 0.1, []Status{StatusOK, StatusOK, StatusOK}},
		{"per-ppv-day down 25%", []float64{0.5, 2, 3}, 0.1, []Status{StatusOK, StatusOK, StatusRegression}},
		{"within a loose threshold", []float64{0.5, 2, 3}, 0.3, []Status{StatusOK, StatusOK, StatusOK}},
		{"monolithic doubled", []float64{1, 2, 4}, 0.1, []Status{StatusImprovement, StatusOK, StatusOK}},
		{"per-ppv now fails at once", []float64{0.5, 0.0001, 4}, 0.1, []Status{StatusOK, StatusRegression, StatusOK}},
	}
	for _, tt := range tests {
		cur := capacityFixture(t, "errors<=1%", designs, tt.knees)
		c, err := CompareCapacity(base, cur, tt.drop)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var regs int
		for i, ch := range c.Checks {
			if ch.Status != tt.want[i] {
				t.Errorf("%s: %s = %s (%s); want %s", tt.name, ch.Design, ch.Status, ch.Sentence(), tt.want[i])
			}
			if ch.Status == StatusRegression {
				regs++
			}
		}
		if (c.Err() != nil) != (regs > 0) {
			t.Errorf("%s: Err() = %v with %d regressions", tt.name, c.Err(), regs)
		}
	}
}

func TestCompareCapacityMissingAndIncomparable(t *testing.T) {
	t.Parallel()
	base := capacityFixture(t, "errors<=1%", []string{"monolithic", "per-ppv-day"}, []float64{0.5, 4})
	cur := capacityFixture(t, "errors<=1%", []string{"per-ppv-day", "per-ppv"}, []float64{4, 2})
	c, err := CompareCapacity(base, cur, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Checks) != 2 || c.Checks[0].Status != StatusRegression || !strings.Contains(c.Checks[0].Note, "missing") {
		t.Errorf("checks %+v; want monolithic missing, a regression", c.Checks)
	}
	if len(c.Notes) == 0 || !strings.Contains(strings.Join(c.Notes, " "), "per-ppv is only in the current") {
		t.Errorf("notes %q; want per-ppv named as only current", c.Notes)
	}
	other := capacityFixture(t, "errors<=5%", []string{"monolithic"}, []float64{0.5})
	if _, err := CompareCapacity(base, other, 0.1); !errors.Is(err, ErrIncomparable) {
		t.Errorf("different SLOs: %v; want ErrIncomparable", err)
	}
	lone := capacityFixture(t, "errors<=1%", []string{"per-ppv"}, []float64{2})
	if _, err := CompareCapacity(base, lone, 0.1); !errors.Is(err, ErrNoCommonDesigns) {
		t.Errorf("no common design: %v; want ErrNoCommonDesigns", err)
	}
	if _, err := CompareCapacity(base, cur, 1.5); err == nil {
		t.Error("a drop of 150% was accepted")
	}
	if c, err := CompareCapacity(base, base, 0.01); err != nil || !strings.Contains(strings.Join(c.Notes, " "), "finer than the searches' tolerance") {
		t.Errorf("a threshold under the tolerance: %v, notes %q; want a note", err, c.Notes)
	}
}

func TestCapacityComparisonWriters(t *testing.T) {
	t.Parallel()
	base := capacityFixture(t, "errors<=1%", []string{"monolithic", "per-ppv-day"}, []float64{0.5, 4})
	cur := capacityFixture(t, "errors<=1%", []string{"monolithic", "per-ppv-day"}, []float64{0.5, 2})
	c, err := CompareCapacity(base, cur, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	var text, md, junit bytes.Buffer
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	for name, w := range map[string][]string{
		text.String(): {"1 capacity regression", "per-ppv-day", "REGRESSION", "400", "200"},
		md.String():   {"❌", "| per-ppv-day | 400 | 200 |", "**regression**"},
	} {
		for _, s := range w {
			if !strings.Contains(name, s) {
				t.Errorf("output lacks %q:\n%s", s, name)
			}
		}
	}
	var doc junitSuites
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 2 || doc.Failures != 1 {
		t.Errorf("junit: %d tests, %d failures; want 2, 1", doc.Tests, doc.Failures)
	}
}
