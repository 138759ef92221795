package scenarios

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/slotrush/slotrush/models"
)

// base is a small valid scenario: 400 users over 2 s, one PPV.
const base = "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 400, arrival: {over: 2s}}\n"

type messageCase struct{ name, data, want string }

// checkMessages parses each case's data as t.yaml and compares all Parse
// says, every line file:line:col, with want ("ok" when it is accepted).
func checkMessages(t *testing.T, cases []messageCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("t.yaml", []byte(tt.data))
			got := "ok"
			if err != nil {
				var list ErrorList
				if !errors.As(err, &list) {
					t.Fatalf("Parse = %T %v; want an ErrorList", err, err)
				}
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Parse(%q) =\n  %s\nwant\n  %s", tt.data, got, tt.want)
			}
		})
	}
}

// TestRangeMessages: every count is range-checked so that the totals
// derived from it fit (issue 16, defect 10: daily_capacity 3,000,000,000
// made the model book nothing and report 1,294,967,296 oversold).
func TestRangeMessages(t *testing.T) {
	t.Parallel()
	checkMessages(t, []messageCase{
		{"daily capacity", "inventory: {daily_capacity: 3000000000, states: [x]}\ncrowd: {size: 400}\n",
			"t.yaml:1:29: inventory.daily_capacity: must be at most 1,000,000,000 places a day, got 3,000,000,000"},
		{"2^62 places a day", "inventory: {daily_capacity: 4611686018427387904, states: [x], days: 2}\ncrowd: {size: 400}\n",
			"t.yaml:1:29: inventory.daily_capacity: must be at most 1,000,000,000 places a day, got 4,611,686,018,427,387,904"},
		{"a PPV's capacity", "inventory: {ppvs: [{id: a, state: x, daily_capacity: 3000000000}]}\ncrowd: {size: 400}\n",
			"t.yaml:1:54: inventory.ppvs[0].daily_capacity: must be at most 1,000,000,000 places a day, got 3,000,000,000"},
		{"places in all", "inventory: {daily_capacity: 100000, states: [a, b, c, d, e], ppvs_per_state: 100, days: 100}\ncrowd: {size: 400}\n",
			"t.yaml:1:1: inventory: 500 PPVs x 100 days x 100,000 places a day = 5,000,000,000 places; at most 1,000,000,000: lower daily_capacity or days"},
		{"places in all, capacities differ", "inventory:\n  days: 2\n  ppvs:\n    - {id: a, state: x, daily_capacity: 600000000}\n    - {id: b, state: x, daily_capacity: 500000000}\ncrowd: {size: 400}\n",
			"t.yaml:1:1: inventory: 2,200,000,000 places in all (2 PPVs over 2 days); at most 1,000,000,000: lower the daily capacities or days"},
		{"limits, retries, waiting room",
			base + "designs:\n  - name: monolithic\n    limits: {write_rate: 1e12, write_burst: 3000000000, max_in_flight: 3000000000}\n" +
				"journey: {retry: {max_attempts: 3000000000}}\nwaiting_room: {admit_per_interval: 3000000000, max_active: 3000000000}\n",
			"t.yaml:5:26: designs[0].limits.write_rate: must be at most 1,000,000,000, got 1e+12\n" +
				"t.yaml:5:45: designs[0].limits.write_burst: must be at most 1,000,000,000, got 3,000,000,000\n" +
				"t.yaml:5:72: designs[0].limits.max_in_flight: must be at most 1,000,000,000, got 3,000,000,000\n" +
				"t.yaml:6:33: journey.retry.max_attempts: must be at most 1,000,000,000, got 3,000,000,000\n" +
				"t.yaml:7:36: waiting_room.admit_per_interval: must be at most 1,000,000,000, got 3,000,000,000\n" +
				"t.yaml:7:60: waiting_room.max_active: must be at most 1,000,000,000, got 3,000,000,000"},
		{"rates and popularity", "inventory: {daily_capacity: 10, ppvs: [{id: a, state: x, popularity: 1e12}]}\ncrowd: {size: 400, arrival: {pieces: [{at: 0s, rate: 1e12}]}}\n",
			"t.yaml:1:70: inventory.ppvs[0].popularity: must be at most 1,000,000,000, got 1e+12\n" +
				"t.yaml:2:54: crowd.arrival.pieces[0].rate: must be at most 1,000,000,000 users/s, got 1e+12"},
		{"durations", base + "journey: {patience: 2000h}\n",
			"t.yaml:3:21: journey.patience: must be at most 1000h, got 2000h0m0s"},
		{"last arrival", "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 400, arrival: {pieces: [{at: 0s, rate: 0.0001}]}}\n",
			"t.yaml:2:20: crowd.arrival: the last of 400 users would arrive at 1108h20m0s, beyond 1000h, the longest a scenario may last: raise the rates or shorten the curve"},
		// Issue 16, defect 16: an oversized integer said "got string".
		{"integer beyond 64 bits", "inventory:\n  daily_capacity: 100000000000000000000\n  states: [x]\ncrowd: {size: 400}\n",
			"t.yaml:2:19: inventory.daily_capacity: integer 100000000000000000000 out of range (max 1,000,000,000)"},
		{"integers beyond 64 bits, negative and a seed", "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: -100000000000000000000}\nseed: 100000000000000000000\n",
			"t.yaml:2:15: crowd.size: integer -100000000000000000000 out of range (min 1)\n" +
				"t.yaml:3:7: seed: integer 100000000000000000000 out of range (max 9,223,372,036,854,775,807)"},
	})
}

// TestDurationMessages: a run shorter than the arrivals drops people
// (issue 16, defect 11: the header said 400 users, 201 arrived).
func TestDurationMessages(t *testing.T) {
	t.Parallel()
	checkMessages(t, []messageCase{
		{"shorter than the arrivals", base + "duration: 1s\n",
			"t.yaml:3:11: duration: 1s ends before the crowd has arrived: 199 of 400 users (49.8%) would never arrive; want at least 1.995s, when the last one arrives, or omit duration for 1m11.995s (the last arrival plus patience and a request timeout)"},
		{"Poisson", "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 400, arrival: {over: 2s, poisson: true}}\nduration: 1s\n",
			"t.yaml:3:11: duration: 1s ends before the crowd has arrived: about 199 of 400 users (49.8%) would never arrive; want at least 1.995s, when the last one arrives, or omit duration for 1m11.995s (the last arrival plus patience and a request timeout)"},
		{"before the opening", "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 400, arrival: {over: 2s}, opening_delay: 5s}\nduration: 3s\n",
			"t.yaml:3:11: duration: 3s ends before the booking API opens at 5s (crowd.opening_delay): nobody could book; want more than 5s, or omit duration for 1m15s (the opening plus patience and a request timeout)"},
		{"just long enough", base + "duration: 1.995s\n", "ok"},
	})
}

// TestTokenTTLMessages: the waiting room's tokens must outlive the waits
// between polls and a request (issue 16, defect 12: with a token_ttl
// shorter than a poll, nobody was ever admitted).
func TestTokenTTLMessages(t *testing.T) {
	t.Parallel()
	room := base + "designs: [{name: monolithic+waiting-room}]\n"
	checkMessages(t, []messageCase{
		{"shorter than a poll", room + "waiting_room: {admit_per_interval: 10, interval: 2s, token_ttl: 1s}\njourney: {request_timeout: 500ms, retry: {jitter: 0.5}}\n",
			"t.yaml:4:65: waiting_room.token_ttl: 1s is not longer than the longest wait between the polls of a person whose turn comes, 3s (waiting_room.interval 2s plus 50% jitter): people admitted would find their token expired at their next poll and go back to the end of the queue; set token_ttl above 3s, or shorten waiting_room.interval"},
		{"shorter than a reload", room + "waiting_room: {admit_per_interval: 10, interval: 250ms, token_ttl: 1s}\njourney: {request_timeout: 500ms, refresh_interval: 1s}\nbehaviours: [{behaviour: refresher, share: 1}]\n",
			"t.yaml:4:68: waiting_room.token_ttl: 1s is not longer than a refresher's longest wait between reloads, 1.5s (1.5 x journey.refresh_interval 1s): people admitted would find their token expired at their next poll and go back to the end of the queue; set token_ttl above 1.5s, or shorten journey.refresh_interval"},
		{"shorter than a request", room + "waiting_room: {admit_per_interval: 10, token_ttl: 5s}\n",
			"t.yaml:4:51: waiting_room.token_ttl: 5s is not longer than journey.request_timeout 10s: a token could expire during a request, and the booking be refused; set token_ttl above 10s, or shorten journey.request_timeout"},
		{"no design uses the room", base + "designs: [{name: monolithic}]\nwaiting_room: {admit_per_interval: 10, token_ttl: 5s}\n", "ok"},
		{"long enough", room + "waiting_room: {admit_per_interval: 10, token_ttl: 10001ms}\n", "ok"},
	})
}

// TestExplicitZeroMessages: only an absent field takes a default; an
// explicit zero is honoured or refused with the reason (issue 16, defect
// 13: over: 0s became 1m, patience: 0s 1m, request_timeout: 0s 10s ...).
func TestExplicitZeroMessages(t *testing.T) {
	t.Parallel()
	checkMessages(t, []messageCase{
		{"over, constant", "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 400, arrival: {over: 0s}}\n",
			"t.yaml:2:36: crowd.arrival.over: must be positive, got 0s: all 400 users would arrive at the same instant (omit it for the default 1m)"},
		{"over and decay, spike", "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 400, arrival: {shape: spike, over: 0s, decay: 0s}}\n",
			"t.yaml:2:50: crowd.arrival.over: must be longer than ramp_up (0s), got 0s (omit it to let the spike's tail run out)\n" +
				"t.yaml:2:61: crowd.arrival.decay: must be positive, got 0s (omit it for the default 1m)"},
		{"decay makes a spike", "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 400, arrival: {decay: 0s}}\n",
			"t.yaml:2:37: crowd.arrival.decay: must be positive, got 0s (omit it for the default 1m)"},
		{"ramp_up: 0s is honoured: a spike from its peak", "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 400, arrival: {ramp_up: 0s}}\n", "ok"},
		{"unused by the shape", "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 400, arrival: {shape: constant, ramp_up: 0s, decay: 0s}}\n",
			"t.yaml:2:56: crowd.arrival.ramp_up: only used by shape spike, not constant\n" +
				"t.yaml:2:67: crowd.arrival.decay: only used by shape spike, not constant"},
		{"over unused by pieces", "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 400, arrival: {pieces: [{at: 0s, rate: 100}], over: 0s}}\n",
			"t.yaml:2:67: crowd.arrival.over: only used by shape constant or spike, not piecewise"},
		{"empty pieces", "inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 400, arrival: {pieces: []}}\n",
			"t.yaml:2:30: crowd.arrival.pieces: must not be empty: give at least one {at, rate}"},
		{"journey", base + "journey:\n  patience: 0s\n  request_timeout: 0s\n  refresh_interval: 0s\n  retry: {backoff: 0s, max_backoff: 0s}\n",
			"t.yaml:4:13: journey.patience: must be positive, got 0s: users would give up before their first answer (omit it for the default 1m)\n" +
				"t.yaml:5:20: journey.request_timeout: must be positive, got 0s: every request would time out at once (omit it for the default 10s)\n" +
				"t.yaml:6:21: journey.refresh_interval: must be positive, got 0s: refreshers would click again without a pause (omit it for the default 1s)\n" +
				"t.yaml:7:20: journey.retry.backoff: must be positive, got 0s: clients would retry at once, again and again (omit it for the default 100ms)\n" +
				"t.yaml:7:37: journey.retry.max_backoff: must be at least backoff (0s), got 0s (omit it for the default 10s)"},
		{"null is absent", base + "journey: {patience: ~, request_timeout: null, retry: {backoff: }}\n", "ok"},
		{"everything else", "name: \"\"\nduration: 0s\ninventory: {daily_capacity: 10, states: [x], days: 0, ppvs_per_state: 0}\n" +
			"crowd: {size: 400, arrival: {shape: \"\"}}\nbehaviours: []\ndesigns: []\nwaiting_room: {interval: 0s, order: \"\", token_ttl: 0s}\n",
			"t.yaml:1:7: name: must not be empty (omit name to name the scenario after its file)\n" +
				"t.yaml:2:11: duration: must be positive, got 0s (omit it to run until the last arrival has had its patience and a request timeout: 1m10s)\n" +
				"t.yaml:3:52: inventory.days: must be between 1 and 3660, got 0 (omit it for 1 day)\n" +
				"t.yaml:3:71: inventory.ppvs_per_state: must be between 1 and 10,000, got 0 (omit it for 1 a state)\n" +
				"t.yaml:4:37: crowd.arrival.shape: must not be empty: want constant, spike or piecewise (omit it to infer the shape)\n" +
				"t.yaml:5:1: behaviours: must not be empty: list {behaviour, share} (omit behaviours to make everyone patient)\n" +
				"t.yaml:6:1: designs: must not be empty: list {name, limits} (omit designs to compare monolithic, per-ppv and per-ppv-day)\n" +
				"t.yaml:7:26: waiting_room.interval: must be positive, got 0s (omit it for the default 1s)\n" +
				"t.yaml:7:37: waiting_room.order: must not be empty: want fifo or random (omit it for fifo)\n" +
				"t.yaml:7:52: waiting_room.token_ttl: must be positive, got 0s: every admission token would expire at once (omit it for the default 5m)"},
		{"a PPV's name", "inventory: {daily_capacity: 10, ppvs: [{id: a, name: \"\", state: x}]}\ncrowd: {size: 400}\n",
			"t.yaml:1:54: inventory.ppvs[0].name: must not be empty (omit it to use the id \"a\")"},
		// Issue 16, defect 16: an explicit daily_capacity: 0 said "required".
		{"daily capacity, generated", "inventory: {daily_capacity: 0, states: [x]}\ncrowd: {size: 400}\n",
			"t.yaml:1:29: inventory.daily_capacity: must be > 0, got 0 (the places a PPV offers each day, unless it sets its own)"},
		{"daily capacity, listed", "inventory:\n  daily_capacity: 0\n  ppvs: [{id: a, state: x}, {id: b, state: x, daily_capacity: 5}]\ncrowd: {size: 400}\n",
			"t.yaml:2:19: inventory.daily_capacity: must be > 0, got 0 (the places a PPV offers each day, unless it sets its own)"},
		{"a PPV's daily capacity", "inventory:\n  daily_capacity: 10\n  ppvs: [{id: a, state: x, daily_capacity: 0}]\ncrowd: {size: 400}\n",
			"t.yaml:3:44: inventory.ppvs[0].daily_capacity: must be > 0, got 0 (omit it to take inventory.daily_capacity)"},
		{"daily capacity absent", "inventory:\n  ppvs: [{id: a, state: x}]\ncrowd: {size: 400}\n",
			"t.yaml:2:11: inventory.ppvs[0].daily_capacity: required (or set inventory.daily_capacity)"},
	})
}

// TestAliasMessages: merge keys and anchors behave as YAML says, and
// their errors name the real problem (issue 16, defect 16).
func TestAliasMessages(t *testing.T) {
	t.Parallel()
	const unknown = "unknown field (want one of name, description, seed, duration, inventory, crowd, preferences, journey, behaviours, designs, waiting_room, faults, gateway, observed)"
	checkMessages(t, []messageCase{
		{"merge, then an override", base + "designs:\n  - name: monolithic\n    limits: &l\n      write_rate: 1\n  - name: per-ppv\n    limits:\n      <<: *l\n      write_rate: 5\n", "ok"},
		{"an override, then a merge", base + "designs:\n  - {name: monolithic, limits: &l {write_rate: 1}}\n  - {name: per-ppv, limits: {write_rate: 5, <<: *l}}\n", "ok"},
		// Once: the merge into designs[1] fails the same way at the same place.
		{"a bad merged value is reported where it is written", base + "designs:\n  - {name: monolithic, limits: &l {write_rate: -1}}\n  - {name: per-ppv, limits: {<<: *l, read_rate: 5}}\n",
			"t.yaml:4:48: designs[0].limits.write_rate: must be at least 0, got -1"},
		{"an overridden bad value is not used", base + "designs:\n  - {name: monolithic, limits: &l {max_wait: 1s}}\n  - {name: per-ppv, limits: {<<: *l, max_wait: -1s}}\n",
			"t.yaml:5:48: designs[1].limits.max_wait: must not be negative, got -1s"},
		{"anchor under an unknown key", base + "extras:\n  limits: &l\n    write_rate: 1\ndesigns:\n  - name: monolithic\n    limits: *l\n",
			"t.yaml:3:1: extras: " + unknown},
		{"anchor under an unknown key, with a bad value", base + "extras:\n  limits: &l\n    write_rate: fast\ndesigns:\n  - name: monolithic\n    limits: *l\n  - name: per-ppv\n    limits: *nothing\n",
			"t.yaml:3:1: extras: " + unknown + "\n" +
				"t.yaml:5:17: designs[0].limits.write_rate: want a number, got string \"fast\"\n" +
				"t.yaml:10:13: designs[1].limits: unknown alias \"*nothing\""},
	})
}

// TestMergeValues checks what merge keys decode to: a mapping's own keys
// win wherever they are written, then earlier merged mappings over later
// ones; and an alias of an anchor under an unknown key is its value.
func TestMergeValues(t *testing.T) {
	t.Parallel()
	data := base + `designs:
  - name: monolithic
    limits: &l {write_rate: 1, read_rate: 2}
  - name: per-ppv
    limits:
      <<: *l
      write_rate: 5
  - name: per-ppv-day
    limits: {write_rate: 7, <<: [{read_rate: 8, write_burst: 3}, *l, {max_queue: 4}]}
`
	s, err := Parse("t.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []models.Limits{
		{WriteRate: 1, ReadRate: 2},
		{WriteRate: 5, ReadRate: 2},
		{WriteRate: 7, ReadRate: 8, WriteBurst: 3, MaxQueue: 4},
	}
	for i, w := range want {
		if got := s.Designs[i].Limits; got != w {
			t.Errorf("designs[%d].limits = %+v; want %+v", i, got, w)
		}
	}

	// The unknown field is an error, but the rest still decodes.
	sc, c := checkAndDecode(t, base+"extras: {l: &l {write_rate: 9}}\ndesigns: [{name: monolithic, limits: *l}]\n")
	if got := sc.Designs[0].Limits.WriteRate; got != 9 || len(c.errs) != 1 {
		t.Errorf("alias of an anchor under an unknown field: write_rate %v, errors %v; want 9 and one error", got, c.errs)
	}
}

// TestExplicitZerosKept checks EnsureDefaults and Validate's contract with
// explicit zeros: EnsureDefaults keeps them (and stays idempotent),
// Validate reports them without mutating; a scenario built in Go, without
// a file, still treats zero as absent.
func TestExplicitZerosKept(t *testing.T) {
	t.Parallel()
	s, c := checkAndDecode(t, base+"journey: {patience: 0s}\n")
	s.zeros = s.explicitZeros(func(f string) bool { return c.set[f] })
	s.EnsureDefaults()
	if s.Journey.Patience != 0 || s.Journey.RequestTimeout != DefaultRequestTimeout {
		t.Errorf("EnsureDefaults: patience %v, request timeout %v; want 0s (explicit) and %v (absent)", s.Journey.Patience, s.Journey.RequestTimeout, DefaultRequestTimeout)
	}
	s.Name = "zeros"
	before := fmt.Sprintf("%#v", *s)
	s.EnsureDefaults()
	errs := s.Validate()
	if after := fmt.Sprintf("%#v", *s); after != before {
		t.Errorf("EnsureDefaults again or Validate changed the scenario:\n%s\n%s", before, after)
	}
	var fe *FieldError
	if len(errs) != 1 || !errors.As(errs[0], &fe) || fe.Field != "journey.patience" {
		t.Errorf("Validate() = %v; want one error, for journey.patience", errs)
	}

	g := Scenario{Name: "go", Inventory: InventorySpec{DailyCapacity: 1, States: []string{"x"}}, Crowd: CrowdSpec{Size: 1}}
	g.EnsureDefaults()
	if errs := g.Validate(); errs != nil || g.Journey.Patience != DefaultPatience {
		t.Errorf("scenario built in Go: patience %v, Validate() = %v; want the default and no error", g.Journey.Patience, errs)
	}
}

// checkAndDecode runs the checker over data and decodes it, as Parse does,
// without defaults or validation.
func checkAndDecode(t *testing.T, data string) (*Scenario, *checker) {
	t.Helper()
	c := newChecker("t.yaml")
	body, err := c.parseAndCheck([]byte(data), defaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var s Scenario
	if err := decodeBody(body, &s); err != nil {
		t.Fatal(err)
	}
	return &s, c
}

func TestCheckScale(t *testing.T) {
	t.Parallel()
	demo, err := Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		f    float64
		want string
	}{
		{0.1, ""},
		{5000, ""},
		{1e9, "scale 1e+09 is too large for scenario demo: its 10,000 users would become 10,000,000,000,000, beyond 50,000,000; the largest scale that fits is 5000"},
		{5001, "scale 5001 is too large for scenario demo: its 10,000 users would become 50,010,000, beyond 50,000,000; the largest scale that fits is 5000"},
		{1e308, "scale 1e+308 is too large for scenario demo: its 10,000 users would become too many to count, beyond 50,000,000; the largest scale that fits is 5000"},
		{0, "scale 0: want a positive finite number, such as 0.1 or 2"},
		{-1, "scale -1: want a positive finite number, such as 0.1 or 2"},
		{math.NaN(), "scale NaN: want a positive finite number, such as 0.1 or 2"},
		{math.Inf(1), "scale +Inf: want a positive finite number, such as 0.1 or 2"},
	} {
		got := ""
		if err := demo.CheckScale(tt.f); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckScale(%v) = %q; want %q", tt.f, got, tt.want)
		}
		if got == "" {
			if errs := demo.Scaled(tt.f).Validate(); errs != nil {
				t.Errorf("CheckScale(%v) = nil, but Scaled(%v).Validate() = %v", tt.f, tt.f, errs)
			}
		}
	}
	// Places in all bind before the crowd: 10 places a day for 10 users.
	s, err := Parse("t.yaml", []byte("inventory: {daily_capacity: 100000000, states: [a, b]}\ncrowd: {size: 10}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "scale 6 is too large for scenario t: its 200,000,000 places in all would become 1,200,000,000, beyond 1,000,000,000; the largest scale that fits is 5"
	if err := s.CheckScale(6); err == nil || err.Error() != want {
		t.Errorf("CheckScale(6) = %v; want %s", err, want)
	}
	if !reflect.DeepEqual(s.Scaled(5).Validate(), []error(nil)) {
		t.Errorf("Scaled(5).Validate() = %v; want nil", s.Scaled(5).Validate())
	}
}
