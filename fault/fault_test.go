package fault

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want Spec
		str  string // String(); "" for in
	}{
		{"partition=hottest,down,start=20s,for=15s",
			Spec{Partition: Hottest, Mode: Down, Start: 20 * time.Second, For: 15 * time.Second}, ""},
		{"partition=ppv-wtc-kl-2021-06-07,slow=200ms,start=10s,for=20s",
			Spec{Partition: "ppv-wtc-kl-2021-06-07", Mode: Slow, Delay: 200 * time.Millisecond, Start: 10 * time.Second, For: 20 * time.Second}, ""},
		{"partition=all,errors=30%,for=10s",
			Spec{Partition: "all", Mode: Errors, Share: 0.3, For: 10 * time.Second}, ""},
		{"for=1m30s, down ,partition=ppv-um",
			Spec{Partition: "ppv-um", Mode: Down, For: 90 * time.Second}, "partition=ppv-um,down,for=1m30s"},
		{"partition=all,errors=100%,start=0s,for=1ns",
			Spec{Partition: "all", Mode: Errors, Share: 1, For: 1}, "partition=all,errors=100%,for=1ns"},
		{"partition=all,errors=0.07%,for=1s",
			Spec{Partition: "all", Mode: Errors, Share: hundredth(0.07), For: time.Second}, ""},
	} {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		want := tt.str
		if want == "" {
			want = tt.in
		}
		if s := got.String(); s != want {
			t.Errorf("Parse(%q).String() = %q; want %q", tt.in, s, want)
		}
	}
}

// hundredth divides at run time, as Parse does (a constant expression
// would be exact, then rounded once).
func hundredth(x float64) float64 { return x / 100 }

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const modes = "want down, slow=DURATION or errors=PERCENT"
	for _, tt := range []struct{ in, want string }{
		{"partition=x,dwn,for=1s", `"partition=x,dwn,for=1s": column 13: unknown term "dwn": ` + modes},
		{"partition=x,down,strat=1s,for=1s", `"partition=x,down,strat=1s,for=1s": column 18: unknown term "strat=1s": want partition=KEY, down, slow=DURATION, errors=PERCENT, start=DURATION or for=DURATION`},
		{"", `"": column 1: empty term: want comma-separated terms such as partition=hottest,down,for=15s`},
		{"partition=x,down,for=1s,", `"partition=x,down,for=1s,": column 25: empty term: want comma-separated terms such as partition=hottest,down,for=15s`},
		{"down,for=1s", `"down,for=1s": column 1: missing partition=KEY (a partition key such as ppv-wtc-kl-2021-06-07, or hottest)`},
		{"partition=x,for=1s", `"partition=x,for=1s": column 1: no mode: want one of down, slow=DURATION or errors=PERCENT`},
		{"partition=x,down", `"partition=x,down": column 1: missing for=DURATION (how long the fault lasts, such as for=15s)`},
		{"partition=x,down,slow=1s,for=1s", `"partition=x,down,slow=1s,for=1s": column 18: a second mode "slow=1s" (down given at column 13): want exactly one of down, slow=DURATION or errors=PERCENT`},
		{"partition=x,down,for=1s,for=2s", `"partition=x,down,for=1s,for=2s": column 25: for given twice (first at column 18)`},
		{"partition=x,down=1s,for=1s", `"partition=x,down=1s,for=1s": column 13: "down=1s": down takes no value`},
		{"partition=x,slow,for=1s", `"partition=x,slow,for=1s": column 13: slow needs a value: slow=200ms`},
		{"partition=x,slow=0s,for=1s", `"partition=x,slow=0s,for=1s": column 13: slow=0s: must be positive`},
		{"partition=x,down,for=-1s", `"partition=x,down,for=-1s": column 18: for=-1s: must be positive`},
		{"partition=x,down,start=-1s,for=1s", `"partition=x,down,start=-1s,for=1s": column 18: start=-1s: must not be negative`},
		{"partition=x,down,for=15", `"partition=x,down,for=15": column 18: for=15: want a duration such as for=15s`},
		{"partition=x,errors=30,for=1s", `"partition=x,errors=30,for=1s": column 13: errors=30: want a percent in (0, 100] such as errors=30%`},
		{"partition=x,errors=0%,for=1s", `"partition=x,errors=0%,for=1s": column 13: errors=0%: want a percent in (0, 100] such as errors=30%`},
		{"partition=x,errors=NaN%,for=1s", `"partition=x,errors=NaN%,for=1s": column 13: errors=NaN%: want a percent in (0, 100] such as errors=30%`},
		{"partition=x,errors=101%,for=1s", `"partition=x,errors=101%,for=1s": column 13: errors=101%: want a percent in (0, 100] such as errors=30%`},
		{"partition=a b,down,for=1s", `"partition=a b,down,for=1s": column 1: partition "a b": want a partition key such as ppv-wtc-kl-2021-06-07 (letters, digits, '.', '_', '-'), or hottest`},
		{"partition=x,down,start=2562047h,for=1h", `"partition=x,down,start=2562047h,for=1h": column 33: start=2562047h0m0s plus for=1h0m0s is beyond the longest duration`},
	} {
		_, err := Parse(tt.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v; want a *ParseError", tt.in, err)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("Parse(%q) =\n  %s\nwant\n  %s", tt.in, got, tt.want)
		}
	}
	if _, err := Parse(strings.Repeat("a", maxInput+1)); err == nil {
		t.Error("Parse of a huge spec succeeded")
	}
}

func TestActive(t *testing.T) {
	t.Parallel()
	s := Spec{Partition: "all", Mode: Down, Start: 20 * time.Second, For: 15 * time.Second}
	if start, end := s.Window(); start != 20*time.Second || end != 35*time.Second {
		t.Errorf("Window() = %v, %v; want 20s, 35s", start, end)
	}
	for _, tt := range []struct {
		at   time.Duration
		want bool
	}{{-time.Second, false}, {0, false}, {20*time.Second - 1, false}, {20 * time.Second, true}, {35*time.Second - 1, true}, {35 * time.Second, false}} {
		if got := s.Active(tt.at); got != tt.want {
			t.Errorf("Active(%v) = %v; want %v", tt.at, got, tt.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"partition=ppv-wtc-kl-2021-06-07,down,start=20s,for=15s", "ppv-wtc-kl-2021-06-07 down from 20s for 15s"},
		{"partition=all,slow=200ms,for=10s", "all slow by 200ms from 0s for 10s"},
		{"partition=all,errors=30%,for=10s", "all failing 30% of operations from 0s for 10s"},
	} {
		s, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Describe(); got != tt.want {
			t.Errorf("Parse(%q).Describe() = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	design := func(name string) models.Design {
		d, err := models.ParseDesign(name, models.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	hot, down := Spec{Partition: Hottest, Mode: Down, For: time.Second}, Spec{Partition: "ppv-um", Mode: Down, For: time.Second}
	calls := 0
	hottest := func() models.PartitionKey { calls++; return "ppv-wtc-kl" }
	got, err := Resolve([]Spec{hot, down, hot}, design("per-ppv"), &inv, hottest)
	if err != nil || len(got) != 3 || got[0].Partition != "ppv-wtc-kl" || got[1] != down || got[2].Partition != "ppv-wtc-kl" || calls != 1 {
		t.Errorf("Resolve = %+v, %v (hottest called %d times); want hottest resolved once", got, err, calls)
	}
	for _, tt := range []struct{ design, want string }{
		{"monolithic", `fault "partition=ppv-um,down,for=1s": design monolithic has no partition "ppv-um" (its one partition is all); partition=hottest names each design's hottest`},
		{"per-ppv-day", `fault "partition=ppv-um,down,for=1s": design per-ppv-day has no partition "ppv-um" (its 9 partitions include ppv-idcc-shah-alam-2021-06-07, ppv-idcc-shah-alam-2021-06-08, ppv-idcc-shah-alam-2021-06-09, ...); partition=hottest names each design's hottest`},
	} {
		_, err := Resolve([]Spec{down}, design(tt.design), &inv, hottest)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Resolve(%s) = %v;\nwant %s", tt.design, err, tt.want)
		}
	}
	if got, err := Resolve(nil, design("monolithic"), &inv, nil); got != nil || err != nil {
		t.Errorf("Resolve(nil) = %v, %v", got, err)
	}
}

// FuzzParse checks that Parse never panics, that it refuses with a
// *ParseError whose column is within the input (or just past it), and
// that the String of what it accepts parses back to the same spec.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"partition=hottest,down,start=20s,for=15s",
		"partition=ppv-wtc-kl-2021-06-07,slow=200ms,start=10s,for=20s",
		"partition=all,errors=30%,for=10s",
		"partition=all,errors=0.07%,for=1s",
		"partition=all,errors=1e-300%,for=1s",
		"partition=all,errors=0x1p-3%,for=1s",
		" for=1m30s , down,partition=ppv-um",
		"partition=x,dwn,for=1s",
		"partition=x,down,start=2562047h,for=1h",
		",,", "=", "partition=,down,for=1s", "down=,slow=,errors=%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Column < 1 || pe.Column > len(in)+1 || pe.Input != in {
				t.Fatalf("Parse(%q) = %v; want a *ParseError with a column in 1..%d", in, err, len(in)+1)
			}
			return
		}
		if s.Mode < Down || s.Mode > Errors || s.For <= 0 || s.Start < 0 || s.Partition == "" {
			t.Fatalf("Parse(%q) = %+v: not a valid spec", in, s)
		}
		back, err := Parse(s.String())
		if err != nil || back != s {
			t.Fatalf("Parse(%q) = %+v; its String %q parses to %+v, %v", in, s, s.String(), back, err)
		}
	})
}
