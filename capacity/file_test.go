package capacity

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"
)

// sampleFile returns a valid capacity file of two fake designs.
func sampleFile(t testing.TB) *File {
	t.Helper()
	o := testOptions(t, "errors<=1%")
	f := &File{Format: FormatString(FormatVersion), Scenario: "fake", Engine: EngineModel, Seed: o.Seed, SLO: o.SLO.String(), Terms: o.SLO,
		Search:      SearchSettings{StartScale: o.Start, MinScale: o.Min, MaxScale: o.Max, Tolerance: o.Tolerance},
		Assumptions: []string{"a fake engine"}, StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for _, knee := range []float64{3, 0.5} {
		e := &fakeEngine{knee: knee}
		d, err := Search(context.Background(), "fake", o, e.run)
		if err != nil {
			t.Fatal(err)
		}
		d.Design = map[float64]string{3: "per-ppv-day", 0.5: "monolithic"}[knee]
		FitDesign(d)
		f.Designs = append(f.Designs, *d)
	}
	return f
}

func TestFileRoundTrip(t *testing.T) {
	t.Parallel()
	f := sampleFile(t)
	path := filepath.Join(t.TempDir(), "capacity.json")
	if err := f.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f) {
		t.Errorf("Load(WriteFile(f)) differs:\n%+v\n%+v", got, f)
	}
	var a, b bytes.Buffer
	if err := f.Write(&a); err != nil {
		t.Fatal(err)
	}
	if err := got.Write(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("writing a file read back gives other bytes")
	}
	if !IsFile(a.Bytes()) {
		t.Error("IsFile(a capacity file) = false")
	}
	v := f.Verdict()
	for _, w := range []string{"per-ppv-day holds a rush of", "monolithic", "errors binds first"} {
		if !strings.Contains(v, w) {
			t.Errorf("Verdict() = %q; want %q in it", v, w)
		}
	}
}

func TestIsFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		data string
		want bool
	}{
		{`{"format": "slotrush-capacity/1"}`, true},
		{`{"format": "slotrush-capacity/9"}`, true},
		{`{"format": 1, "scenario": "demo"}`, false},
		{`{"format": "other"}`, false},
		{`[1, 2]`, false},
		{`not json`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := IsFile([]byte(tt.data)); got != tt.want {
			t.Errorf("IsFile(%q) = %v; want %v", tt.data, got, tt.want)
		}
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	var good bytes.Buffer
	if err := sampleFile(t).Write(&good); err != nil {
		t.Fatal(err)
	}
	edit := func(old, repl string) string { return strings.Replace(good.String(), old, repl, 1) }
	tests := []struct {
		name, data, says string
	}{
		{"syntax", "{\n  \"format\": \"slotrush-capacity/1\",\n  oops\n}", "line 3, column"},
		{"type", edit(`"seed": 42`, `"seed": "x"`), "field seed"},
		{"result file", `{"format": 1}`, "not a capacity file"},
		{"future version", edit(`"slotrush-capacity/1"`, `"slotrush-capacity/2"`), "this build reads capacity files 1 to 1"},
		{"engine", edit(`"engine": "model"`, `"engine": "guess"`), `engine "guess"`},
		{"outcome", edit(`"outcome": "found"`, `"outcome": "maybe"`), `designs[0].outcome "maybe"`},
		{"slo", edit(`"slo": "errors<=1%"`, `"slo": "errors>=1%"`), "slo:"},
		{"no designs", edit(`"designs": [`, `"designs": [], "x": [`), "designs: none"},
	}
	for _, tt := range tests {
		_, err := Read("c.json", []byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.says) || !strings.HasPrefix(err.Error(), "c.json: ") {
			t.Errorf("%s: Read = %v; want an error naming c.json and saying %q", tt.name, err, tt.says)
		}
	}
	if _, err := Read("r.json", []byte(`{"format": 1}`)); !errors.Is(err, ErrNotCapacity) {
		t.Errorf("Read(a result) = %v; want ErrNotCapacity", err)
	}
}

func FuzzRead(f *testing.F) {
	var good bytes.Buffer
	if err := sampleFile(f).Write(&good); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(`{"format": "slotrush-capacity/1", "designs": [{"outcome": "found", "steps": [{"scale": -1}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Read("fuzz.json", data)
		if err != nil {
			return
		}
		// What Read accepts writes and reads back the same.
		var buf bytes.Buffer
		if err := c.Write(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := Read("again.json", buf.Bytes()); err != nil {
			t.Fatalf("a file Read accepted fails after a round trip: %v", err)
		}
		_ = c.Verdict()
	})
}

func TestMeasure(t *testing.T) {
	t.Parallel()
	h := results.NewLatencyHistogram()
	for i := int64(1); i <= 1000; i++ {
		if err := h.RecordValue(i * 1000); err != nil { // 1 ms to 1 s
			t.Fatal(err)
		}
	}
	enc, err := results.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	d := &results.DesignResult{
		Requests:   results.Requests{Total: 200, ByStatus: map[string]int64{"201": 150, "409": 40, "429": 6, "503": 2}, TransportErrors: 2},
		Users:      results.Users{Arrived: 100, Booked: 57, RetryAmplification: 1.25},
		Slots:      results.Slots{Capacity: 60, Booked: 57},
		Histograms: map[string]string{"book": enc},
	}
	slo, err := ParseSLO("book.p99<=500ms,errors<=5%,booked_share>=95%,retry_amplification<=1.5,time_to_book.p90<=60s,queue.p99<=1s")
	if err != nil {
		t.Fatal(err)
	}
	m := slo.Measure(d)
	type want struct {
		value float64
		pass  bool
		note  string
	}
	wants := []want{
		{990, false, ""}, // p99 of 1..1000 ms
		{0.05, true, ""}, // (6 + 2 + 2) / 200
		{0.95, true, ""}, // 57 of min(100, 60)
		{1.25, true, ""}, //
		{0, false, "nobody booked: fails"},
		{0, true, "no queue requests: holds"},
	}
	for i, w := range wants {
		tv := m.Terms[i]
		if tv.Pass != w.pass || tv.Note != w.note || (w.note == "" && (tv.Value < w.value*0.99 || tv.Value > w.value*1.01)) {
			t.Errorf("%s = %+v; want value %v pass %v note %q", tv.Term, tv, w.value, w.pass, w.note)
		}
	}
	if m.Pass {
		t.Error("Measure passes with failing terms")
	}
	if b := binding(m.Terms, slo); b != "time_to_book.p90<=60000ms" {
		t.Errorf("binding = %q; want the unmeasured time_to_book (infinitely past)", b)
	}
}

func TestThroughput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tl   []results.TimelinePoint
		want float64
	}{
		{"empty", nil, 0},
		// Seconds 0-2 have at least half the peak's 100 arrivals.
		{"busy seconds", []results.TimelinePoint{{TS: 0, Booked: 80, Arrivals: 100}, {TS: 1, Booked: 90, Arrivals: 90},
			{TS: 2, Booked: 100, Arrivals: 50}, {TS: 3, Booked: 10, Arrivals: 10}, {TS: 4, Booked: 5}}, 90},
		// No arrivals: the best three-second moving average.
		{"older result", []results.TimelinePoint{{TS: 0, Booked: 30}, {TS: 1, Booked: 60}, {TS: 2, Booked: 90}, {TS: 3, Booked: 0}}, 60},
		{"short run", []results.TimelinePoint{{TS: 0, Booked: 30}, {TS: 1, Booked: 60}}, 45},
	}
	for _, tt := range tests {
		if got := Throughput(tt.tl); got != tt.want {
			t.Errorf("%s: Throughput = %v; want %v", tt.name, got, tt.want)
		}
	}
}
