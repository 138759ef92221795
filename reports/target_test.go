package reports

import (
	"regexp"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

// keepDesigns keeps only the named designs of r, in r's order.
func keepDesigns(r *results.Result, names ...string) {
	var keep []results.DesignResult
	for _, d := range r.Designs {
		for _, n := range names {
			if d.Design == n {
				keep = append(keep, d)
			}
		}
	}
	r.Designs = keep
}

// asTarget turns the design named design of r into the external target
// name at url, whose assumptions come from source: unstated ones are
// emptied, as a target that stated nothing leaves them.
func asTarget(r *results.Result, design, name, url, source string) *results.DesignResult {
	d, ok := r.Design(design)
	if !ok {
		panic("no design " + design)
	}
	d.Design = name
	d.Target = &results.Target{Name: name, URL: url, Profile: "v1"}
	if source == results.SourceUnstated {
		d.Assumptions = results.Assumptions{}
	}
	d.Assumptions.Source = source
	d.Slots.Inventory = results.InventoryAPI
	d.Slots.Audit = results.AuditAPI
	return d
}

func TestBandOf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		amp  float64
		want retryBand
	}{
		{1, fewRetries}, {1.4, fewRetries}, {1.5, fewRetries}, {1.54, fewRetries}, // printed 1.5×
		{1.56, largeRetries}, {2.4, largeRetries}, {3, largeRetries}, {3.04, largeRetries}, // printed 3×
		{3.06, mostlyRetries}, {3.8, mostlyRetries}, {6.3, mostlyRetries}, {6.8, mostlyRetries},
	} {
		if got := bandOf(tt.amp); got != tt.want {
			t.Errorf("bandOf(%v) = %v; want %v", tt.amp, got, tt.want)
		}
	}
}

// TestRetrySentences: the verdict speaks of retries by the size of each
// column's retry amplification, never by comparison between columns.
func TestRetrySentences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		amps    []float64 // measured retry amplification of monolithic, then per-ppv-day
		targets bool      // per-ppv-day is a target named acme
		want    []string  // each must be one of the sentences about people
		not     []string  // none may appear in them
	}{
		{
			name: "reported case: 6.3× and 6.8× are mostly retries",
			amps: []float64{6.8, 6.3},
			want: []string{"With every design the booking API received between 6.3× and 6.8× the requests people made (retry amplification; 3.1 to 11.5 requests per person): most of its load was retries."},
			not:  []string{"few retries", "large share"},
		},
		{
			name: "all few",
			amps: []float64{1.2, 1.5},
			want: []string{"With every design the booking API received between 1.2× and 1.5× the requests people made (retry amplification; 3.1 to 11.5 requests per person): few retries."},
			not:  []string{"most of its load", "large share"},
		},
		{
			name: "all a large share",
			amps: []float64{2.9, 1.6},
			want: []string{"With every design the booking API received between 1.6× and 2.9× the requests people made (retry amplification; 3.1 to 11.5 requests per person): retries were a large share of its load."},
			not:  []string{"few retries", "most of its load"},
		},
		{
			name: "the same figure",
			amps: []float64{3.3, 3.31},
			want: []string{"With every design the booking API received about 3.3× the requests people made"},
		},
		{
			name: "one band each",
			amps: []float64{4.5, 1.1},
			want: []string{
				"With monolithic the booking API received 4.5× the requests people made (retry amplification; 11.5 requests per person): most of its load was retries.",
				"With per-ppv-day the booking API received 1.1× the requests people made (retry amplification; 3.1 requests per person): few retries.",
			},
			not: []string{"every design"},
		},
		{
			name: "large share beside few",
			amps: []float64{2, 1.3},
			want: []string{
				"With monolithic the booking API received 2× the requests people made (retry amplification; 11.5 requests per person): retries were a large share of its load.",
				"With per-ppv-day the booking API received 1.3× the requests people made (retry amplification; 3.1 requests per person): few retries.",
			},
		},
		{
			name:    "a design and a target",
			amps:    []float64{6.8, 6.3},
			targets: true,
			want:    []string{"With every design and target the booking API received between 6.3× and 6.8× the requests people made"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := fixture()
			keepDesigns(r, "monolithic", "per-ppv-day")
			for i, a := range tt.amps {
				r.Designs[i].Users.RetryAmplification = a
			}
			if tt.targets {
				asTarget(r, "per-ppv-day", "acme", "https://acme.example", results.SourceUnstated)
			}
			v := Judge(r)
			for _, w := range tt.want {
				if !containsAny(v.People, w) {
					t.Errorf("People lack %q:\n%s", w, strings.Join(v.People, "\n"))
				}
			}
			for _, w := range tt.not {
				if containsAny(v.People, w) {
					t.Errorf("People say %q:\n%s", w, strings.Join(v.People, "\n"))
				}
			}
		})
	}
	t.Run("every target, one band each side of 3×", func(t *testing.T) {
		t.Parallel()
		r := fixture()
		keepDesigns(r, "monolithic", "per-ppv-day")
		asTarget(r, "monolithic", "acme", "https://acme.example", results.SourceUnstated).Users.RetryAmplification = 2.5
		asTarget(r, "per-ppv-day", "beta", "https://beta.example", results.SourceUnstated).Users.RetryAmplification = 2.7
		v := Judge(r)
		w := "With every target the booking API received between 2.5× and 2.7× the requests people made (retry amplification; 3.1 to 11.5 requests per person): retries were a large share of its load."
		if !containsAny(v.People, w) {
			t.Errorf("People lack %q:\n%s", w, strings.Join(v.People, "\n"))
		}
	})
}

// TestJudgeTargets: what the audit of a target found or could not settle,
// and requests never sent, are warnings.
func TestJudgeTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(d *results.DesignResult)
		want   []string
		not    []string
	}{
		{
			name:   "API audit, all found",
			change: func(*results.DesignResult) {},
			want:   []string{"acme: its bookings were read back through the API, but its store could not be audited, so a person holding two bookings cannot be ruled out."},
			not:    []string{"confirmed bookings were lost", "never sent", "were lost (a timeout", "could not be read back", "oversold"},
		},
		{
			name: "API audit, some missing, some unread, some unknown, some oversold",
			change: func(d *results.DesignResult) {
				d.Slots.Persisted, d.Slots.Missing, d.Slots.UnknownOutcome = d.Slots.Answered201-10, 3, 41
				d.Slots.Oversold = 5 // found beyond the places their slot had left
			},
			want: []string{
				"acme sold 5 places beyond capacity (oversold): the target broke the capacity invariant.",
				"acme answered 201 to 3 bookings that could not be read back through the API afterwards: confirmed bookings were lost.",
				"acme: 7 bookings answered 201 could not be read back through the API afterwards, so lost bookings among them cannot be ruled out.",
				"acme: the answers to 41 booking requests were lost (a timeout or a reset) and the audit could not resolve them: those people may or may not hold a place, so its places booked and people served are uncertain by up to 41.",
			},
			not: []string{"the store was not audited"},
		},
		{
			name: "no audit",
			change: func(d *results.DesignResult) {
				d.Slots.Audit, d.Slots.Persisted, d.Slots.Missing, d.Slots.Oversold = results.AuditNone, -1, 9, 0
			},
			want: []string{"acme: nothing could be checked after the run, so oversold places and lost bookings cannot be ruled out."},
			not:  []string{"confirmed bookings were lost", "oversold)"},
		},
		{
			// 201s beyond the places on offer at the start are oversold,
			// audited or not.
			name: "no audit, 201s beyond the places at the start",
			change: func(d *results.DesignResult) {
				d.Slots.Audit, d.Slots.Persisted, d.Slots.Oversold = results.AuditNone, -1, 2
				d.Slots.Booked = d.Slots.Capacity + 2
			},
			want: []string{"acme sold 2 places beyond capacity (oversold): the target broke the capacity invariant."},
			not:  []string{"confirmed bookings were lost"},
		},
		{
			name: "dropped requests",
			change: func(d *results.DesignResult) {
				d.Requests.Dropped = 1234
				d.Requests.DroppedLate = &results.LatencySummary{P50: 300, Max: 2100, Count: 1234}
			},
			want: []string{"acme: 1,234 requests were due before the run ended but never sent (the latest 2.1 s late when the run ended): the target received less load than the scenario asked for, so its figures may flatter it."},
		},
		{
			name: "many still trying",
			change: func(d *results.DesignResult) {
				d.Users.StillWaiting += d.Users.GaveUp / 2
				d.Users.GaveUp -= d.Users.GaveUp / 2
			},
			want: []string{"so a longer run could change this target's figures."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := fixture()
			keepDesigns(r, "per-ppv-day")
			d := asTarget(r, "per-ppv-day", "acme", "https://acme.example", results.SourceUnstated)
			tt.change(d)
			v := Judge(r)
			for _, w := range tt.want {
				if !containsAny(v.Warnings, w) {
					t.Errorf("Warnings lack %q:\n%s", w, strings.Join(v.Warnings, "\n"))
				}
			}
			for _, w := range tt.not {
				if containsAny(v.Warnings, w) {
					t.Errorf("Warnings say %q:\n%s", w, strings.Join(v.Warnings, "\n"))
				}
			}
			if v.Best != "acme" {
				t.Errorf("Best = %q; want the target's name, acme", v.Best)
			}
		})
	}
}

// TestAssumptionsOfTargets: nothing is invented for a target. What it did
// not state reads "not stated by the target", what it stated is marked so,
// and a design slotrush built reads as before.
func TestAssumptionsOfTargets(t *testing.T) {
	t.Parallel()
	r := fixture()
	keepDesigns(r, "per-ppv", "per-ppv-day", "monolithic")
	asTarget(r, "per-ppv", "acme", "https://acme.example", results.SourceUnstated)
	asTarget(r, "per-ppv-day", "beta", "https://beta.example", results.SourceStated).Assumptions.Store = ""
	ss := collect([]*results.Result{r})
	col := map[string]int{}
	for i, s := range ss {
		col[s.Label] = i
	}
	rows := map[string][]cell{}
	for _, rw := range assumptionTable(ss) {
		rows[rw.Name] = rw.Cells
	}
	for _, tt := range []struct {
		row, column, want string
	}{
		{"Target", "acme", "https://acme.example (API profile v1)"},
		{"Target", "monolithic", "the reference server, started by slotrush"},
		{"Scheme", "acme", notStated},
		{"Partitions", "acme", notStated},
		{"Waiting room", "acme", notStated},
		{"Writes per partition", "acme", notStated},
		{"Reads per partition", "acme", notStated},
		{"In flight per partition", "acme", notStated},
		{"Queue per partition", "acme", notStated},
		{"Store", "acme", notStated},
		{"Durability of a 201", "acme", notStated},
		{"Scheme", "beta", "per-ppv-day (stated by the target)"},
		{"Partitions", "beta", "60 (stated by the target)"},
		{"Writes per partition", "beta", "40/s, burst 10 (stated by the target)"},
		{"Queue per partition", "beta", "32, wait ≤ 2s (stated by the target)"},
		{"Store", "beta", notStated}, // stated nothing about it
		{"Partitions", "monolithic", "1"},
		{"Writes per partition", "monolithic", "400/s, burst 100"},
		{"Places on offer", "acme", "6,000 remaining at the start, read through the API before the run"},
		{"Places on offer", "monolithic", "6,000, from the scenario"},
		{"Checks after the run", "acme", "API audit: every 201 read back through the API, and oversold places counted from the bookings read back; one booking per person and the store's counters could not be checked"},
		{"Checks after the run", "monolithic", "store audit: oversold places, counters, one booking per person, every 201 persisted"},
	} {
		cells, ok := rows[tt.row]
		if !ok {
			t.Errorf("no row %q", tt.row)
			continue
		}
		if got := cells[col[tt.column]].Text; got != tt.want {
			t.Errorf("%s of %s = %q; want %q", tt.row, tt.column, got, tt.want)
		}
	}
}

// TestRenderTarget: a target that stated nothing shows its name and URL,
// "not stated" instead of any partition count or limit, what its audit
// could check, its dropped requests and its unknown outcomes.
func TestRenderTarget(t *testing.T) {
	t.Parallel()
	r := fixture()
	keepDesigns(r, "per-ppv")
	d := asTarget(r, "per-ppv", "acme", "https://acme.example/booking", results.SourceUnstated)
	d.Slots.UnknownOutcome = 17
	d.Requests.Dropped = 250
	d.Requests.DroppedLate = &results.LatencySummary{Max: 850, Count: 250}
	page := readIndex(t, renderOne(t, r))
	for _, w := range []string{
		"<h1>Which target survives the rush?</h1>",
		`acme<span class="help">https://acme.example/booking (API profile v1)</span></th>`,
		"<p class=\"headline\">acme booked 4,371 of 6,000 places (73%)",
		"not stated by the target",
		"Of a target, the report shows only what it stated about itself.",
		"every 201 read back through the API",
		"6,000 remaining at the start, read through the API before the run",
		"Dropped (due, never sent)",
		`<td class="bad">250 (the latest 850 ms late)</td>`,
		"Unknown outcomes",
		`<td class="bad">17</td>`,
		"Warning: acme: the answers to 17 booking requests were lost",
		"Warning: acme: 250 requests were due before the run ended but never sent",
		"The targets compared",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("index.html lacks %q", w)
		}
	}
	// The assumptions table shows no partition count, rate or bound.
	for _, name := range []string{"Scheme", "Partitions", "Waiting room", "Writes per partition", "Reads per partition",
		"In flight per partition", "Queue per partition", "Store", "Durability of a 201"} {
		re := regexp.MustCompile(`<th scope="row" class="rowname">` + regexp.QuoteMeta(name) + `</th><td>([^<]*)</td>`)
		if m := re.FindStringSubmatch(page); len(m) < 2 || m[1] != notStated {
			t.Errorf("assumption %s = %q; want %q", name, m, notStated)
		}
	}
	for _, bad := range []string{"unlimited", "burst", "synchronous=FULL"} {
		if strings.Contains(page, bad) {
			t.Errorf("index.html invents %q for a target that stated nothing", bad)
		}
	}
}

// TestRenderOldResultReadsAsBefore: a result written before targets,
// audits and dropped requests existed gets none of their rows.
func TestRenderOldResultReadsAsBefore(t *testing.T) {
	t.Parallel()
	r := fixture()
	r.Designs[1].Slots.Persisted = -1
	page := readIndex(t, renderOne(t, r))
	for _, bad := range []string{"Dropped (due", "Unknown outcomes", "Places on offer", "Checks after the run", "not stated by the target", "not checked", `class="help">http`} {
		if strings.Contains(page, bad) {
			t.Errorf("index.html of an old result shows %q", bad)
		}
	}
	for _, w := range []string{"Which booking design survives the rush?", "4 designs compared.", "<td>not audited</td>", "per-ppv: the store was not audited afterwards"} {
		if !strings.Contains(page, w) {
			t.Errorf("index.html lacks %q", w)
		}
	}
}

func renderOne(t *testing.T, r *results.Result) string {
	t.Helper()
	if errs := r.Check(); len(errs) > 0 {
		t.Fatalf("test result is inconsistent: %v", errs)
	}
	index, err := render(t.TempDir(), cheapDPI, []*results.Result{r})
	if err != nil {
		t.Fatal(err)
	}
	return index
}

// TestCompareTargets: a target is matched by its name; its missing 201s
// fail the gate when read back through the API, are not audited without
// any audit, and unknown outcomes are no check.
func TestCompareTargets(t *testing.T) {
	t.Parallel()
	mk := func(change func(*results.DesignResult)) *results.Result {
		r := fixture()
		keepDesigns(r, "per-ppv-day")
		d := asTarget(r, "per-ppv-day", "acme", "https://acme.example", results.SourceUnstated)
		d.Design = "" // matched by the target's name all the same
		d.Slots.Persisted = -1
		change(d)
		return r
	}
	tests := []struct {
		name    string
		change  func(*results.DesignResult)
		metric  string
		status  Status
		note    string
		notWant string // a metric that must not be checked
	}{
		{"API audit finds missing 201s", func(d *results.DesignResult) { d.Slots.Missing = 2 }, "missing 201s", StatusRegression, "must be 0 in every run", "unknown"},
		{"no audit", func(d *results.DesignResult) { d.Slots.Audit, d.Slots.Missing = results.AuditNone, 2 }, "missing 201s", StatusOK, "not audited", ""},
		{"oversold counted through the API", func(d *results.DesignResult) { d.Slots.Oversold = 4 }, "oversold", StatusRegression, "must be 0 in every run", ""},
		{"oversold without an audit", func(d *results.DesignResult) { d.Slots.Audit, d.Slots.Oversold = results.AuditNone, 4 }, "oversold", StatusRegression, "must be 0 in every run", ""},
		{"nothing oversold, no audit", func(d *results.DesignResult) { d.Slots.Audit = results.AuditNone }, "oversold", StatusOK, "not audited", ""},
		{"unknown outcomes are no check", func(d *results.DesignResult) { d.Slots.UnknownOutcome = 40 }, "missing 201s", StatusOK, "", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Compare([]*results.Result{mk(func(*results.DesignResult) {})}, []*results.Result{mk(tt.change)}, DefaultCompareOptions())
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, ch := range c.Checks {
				if ch.Design != "acme" {
					t.Errorf("check of %q; want acme", ch.Design)
				}
				if tt.notWant != "" && strings.Contains(ch.Metric, tt.notWant) {
					t.Errorf("checks %q", ch.Metric)
				}
				if ch.Metric == tt.metric {
					found = true
					if ch.Status != tt.status || ch.Note != tt.note {
						t.Errorf("%s: status %s, note %q; want %s, %q", ch.Metric, ch.Status, ch.Note, tt.status, tt.note)
					}
				}
			}
			if !found {
				t.Errorf("no check of %s", tt.metric)
			}
		})
	}
}

// TestIntegrityRows: the integrity rows say what each audit could check.
func TestIntegrityRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                       string
		slots                      results.Slots
		oversold, missing, unknown string // "" for unknown: no such row
	}{
		{"old result, audited", results.Slots{Answered201: 10, Persisted: 10}, "0", "0", ""},
		{"old result, not audited", results.Slots{Answered201: 10, Persisted: -1}, "0", "not audited", ""},
		{"store audit", results.Slots{Answered201: 10, Persisted: 9, Missing: 1, Oversold: 2, Audit: results.AuditStore}, "2", "1", "0"},
		{"API audit", results.Slots{Answered201: 10, Persisted: 10, Audit: results.AuditAPI, UnknownOutcome: 3}, "0", "0", "3"},
		{"API audit, some unread", results.Slots{Answered201: 10, Persisted: 6, Missing: 1, Audit: results.AuditAPI}, "0", "1 (3 could not be read back)", "0"},
		{"no audit", results.Slots{Answered201: 10, Persisted: -1, Audit: results.AuditNone, UnknownOutcome: 2}, "not checked", "not audited", "2"},
		{"no audit, 201s beyond capacity", results.Slots{Capacity: 8, Booked: 10, Answered201: 10, Persisted: -1, Oversold: 2, Audit: results.AuditNone}, "2", "not audited", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &results.Result{Designs: []results.DesignResult{{Design: "x", Slots: tt.slots}}}
			got := map[string]string{}
			for _, rw := range comparisonTable(statsOfAll(collect([]*results.Result{r}))) {
				got[rw.Name] = rw.Cells[0].Text
			}
			if got["Oversold places"] != tt.oversold {
				t.Errorf("Oversold places = %q; want %q", got["Oversold places"], tt.oversold)
			}
			if got["Missing 201s"] != tt.missing {
				t.Errorf("Missing 201s = %q; want %q", got["Missing 201s"], tt.missing)
			}
			if got["Unknown outcomes"] != tt.unknown {
				t.Errorf("Unknown outcomes = %q; want %q", got["Unknown outcomes"], tt.unknown)
			}
		})
	}
}
