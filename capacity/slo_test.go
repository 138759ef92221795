package capacity

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseSLO(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		want  []Term // Metric, Percentile, Op, Limit, Unit, Column
		canon string
	}{
		{"book.p99<=500ms", []Term{{Metric: "book", Percentile: 99, Op: "<=", Limit: 500, Unit: UnitMs, Column: 1}}, "book.p99<=500ms"},
		{"errors<=1%", []Term{{Metric: MetricErrors, Op: "<=", Limit: 0.01, Unit: UnitShare, Column: 1}}, "errors<=1%"},
		{"errors<=0.01", []Term{{Metric: MetricErrors, Op: "<=", Limit: 0.01, Unit: UnitShare, Column: 1}}, "errors<=1%"},
		{"booked_share>=95%", []Term{{Metric: MetricBookedShare, Op: ">=", Limit: 0.95, Unit: UnitShare, Column: 1}}, "booked_share>=95%"},
		{"retry_amplification<=1.5", []Term{{Metric: MetricRetryAmplification, Op: "<=", Limit: 1.5, Unit: UnitRatio, Column: 1}}, "retry_amplification<=1.5"},
		{"retry_amplification<2x", []Term{{Metric: MetricRetryAmplification, Op: "<", Limit: 2, Unit: UnitRatio, Column: 1}}, "retry_amplification<2"},
		{"time_to_book.p90<=60s", []Term{{Metric: MetricTimeToBook, Percentile: 90, Op: "<=", Limit: 60000, Unit: UnitMs, Column: 1}}, "time_to_book.p90<=60000ms"},
		{"list_slots.p999 <= 2s", []Term{{Metric: "list_slots", Percentile: 99.9, Op: "<=", Limit: 2000, Unit: UnitMs, Column: 1}}, "list_slots.p999<=2000ms"},
		{"queue.p99.9<1s", []Term{{Metric: "queue", Percentile: 99.9, Op: "<", Limit: 1000, Unit: UnitMs, Column: 1}}, "queue.p999<1000ms"},
		{"book.p99<=500ms, errors<=1%", []Term{
			{Metric: "book", Percentile: 99, Op: "<=", Limit: 500, Unit: UnitMs, Column: 1},
			{Metric: MetricErrors, Op: "<=", Limit: 0.01, Unit: UnitShare, Column: 18},
		}, "book.p99<=500ms,errors<=1%"},
	}
	for _, tt := range tests {
		got, err := ParseSLO(tt.in)
		if err != nil {
			t.Errorf("ParseSLO(%q) = %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Fatalf("ParseSLO(%q) = %d terms; want %d", tt.in, len(got), len(tt.want))
		}
		for i, w := range tt.want {
			g := got[i]
			g.Text = ""
			if !reflect.DeepEqual(g, w) {
				t.Errorf("ParseSLO(%q)[%d] = %+v; want %+v", tt.in, i, g, w)
			}
		}
		if s := got.String(); s != tt.canon {
			t.Errorf("ParseSLO(%q).String() = %q; want %q", tt.in, s, tt.canon)
		}
	}
}

func TestParseSLOErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		term   string
		column int
		says   string
	}{
		{"", "", 1, "empty"},
		{"errors<=1%,", "", 12, "empty term"},
		{"book.p99<=500ms,bok.p99<=1s", "bok.p99<=1s", 17, `unknown operation "bok"`},
		{"errors<=1%, book.p99<=5xx", "book.p99<=5xx", 13, "positive duration"},
		{"errors>=1%", "errors>=1%", 1, "use <="},
		{"booked_share<=95%", "booked_share<=95%", 1, "use >="},
		{"errors<=150%", "errors<=150%", 1, "between 0% and 100%"},
		{"errors=1%", "errors=1%", 1, "equality"},
		{"errors", "errors", 1, "no comparison"},
		{"book.p100<=1s", "book.p100<=1s", 1, "percentile"},
		{"book.q99<=1s", "book.q99<=1s", 1, "percentile"},
		{"latency<=1s", "latency<=1s", 1, "unknown metric"},
		{"retry_amplification<=0.5", "retry_amplification<=0.5", 1, "at least 1"},
		{"errors<=", "errors<=", 1, "no limit"},
		{"errors<=1%,errors<=2%", "errors<=2%", 12, "same metric"},
		{"<=1s", "<=1s", 1, "no metric"},
		{"book.p99<=-1s", "book.p99<=-1s", 1, "positive duration"},
		{"errors<=NaN%", "errors<=NaN%", 1, "percentage"},
	}
	for _, tt := range tests {
		_, err := ParseSLO(tt.in)
		var se *SLOError
		if !errors.As(err, &se) {
			t.Errorf("ParseSLO(%q) = %v; want an *SLOError", tt.in, err)
			continue
		}
		if se.Term != tt.term || se.Column != tt.column || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("ParseSLO(%q) = term %q column %d %q; want term %q column %d saying %q", tt.in, se.Term, se.Column, err, tt.term, tt.column, tt.says)
		}
		if !strings.Contains(err.Error(), "column") {
			t.Errorf("ParseSLO(%q) = %q; want the column named", tt.in, err)
		}
	}
}

func TestTermHolds(t *testing.T) {
	t.Parallel()
	slo, err := ParseSLO("book.p99<=500ms,booked_share>=95%,retry_amplification<1.5")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		term int
		v    float64
		want bool
	}{
		{0, 500, true}, {0, 500.1, false}, {1, 0.95, true}, {1, 0.949, false}, {2, 1.49, true}, {2, 1.5, false},
	}
	for _, tt := range tests {
		if got := slo[tt.term].Holds(tt.v); got != tt.want {
			t.Errorf("%s.Holds(%v) = %v; want %v", slo[tt.term].Canonical(), tt.v, got, tt.want)
		}
	}
}

func TestSLOWords(t *testing.T) {
	t.Parallel()
	slo, err := ParseSLO("book.p99<=500ms,errors<=1%,time_to_book.p90<=60s")
	if err != nil {
		t.Fatal(err)
	}
	want := "book p99 within 500 ms, errors at most 1% and 90% of bookings within 60 s"
	if got := slo.Words(); got != want {
		t.Errorf("Words() = %q; want %q", got, want)
	}
}

func FuzzParseSLO(f *testing.F) {
	for _, s := range []string{"book.p99<=500ms", "errors<=1%,booked_share>=95%", "retry_amplification<=1.5, time_to_book.p90<=60s",
		"queue.p99.9<1s", "errors<=0.01", ",", "book.p999<=1h", "errors<=1e-3%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		slo, err := ParseSLO(s)
		if err != nil {
			var se *SLOError
			if !errors.As(err, &se) || se.Column < 1 {
				t.Fatalf("ParseSLO(%q) = %v; want an *SLOError with a column", s, err)
			}
			return
		}
		// The canonical form reads back to the same objective.
		again, err := ParseSLO(slo.String())
		if err != nil {
			t.Fatalf("ParseSLO(%q) = %v, reading back %q", s, err, slo.String())
		}
		if again.String() != slo.String() || len(again) != len(slo) {
			t.Fatalf("round trip of %q: %q then %q", s, slo.String(), again.String())
		}
		for i := range slo {
			a, b := slo[i], again[i]
			if a.Metric != b.Metric || a.Op != b.Op || a.Percentile != b.Percentile || a.Unit != b.Unit || !nearlyEqual(a.Limit, b.Limit) {
				t.Fatalf("round trip of %q: term %d %+v became %+v", s, i, a, b)
			}
		}
	})
}

// nearlyEqual reports whether a and b agree to 9 significant digits (a limit is
// written back with 10).
func nearlyEqual(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	m := max(a, b, -a, -b)
	return d <= 1e-9*m
}
