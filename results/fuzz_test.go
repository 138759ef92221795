package results_test

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/results/resultstest"
)

// FuzzReadResult checks that ReadResult never panics, and that a result it
// accepts survives Write and ReadResult unchanged.
func FuzzReadResult(f *testing.F) {
	var buf bytes.Buffer
	// A small but complete seed: large seeds make the fuzzer's
	// minimisation slow.
	small := resultstest.SyntheticResult(1)
	small.Designs = small.Designs[2:3]
	d := &small.Designs[0]
	d.Timeline = d.Timeline[:2]
	d.Histograms = map[string]string{results.OpBook: d.Histograms[results.OpBook]}
	d.LatencyMs = map[string]results.LatencySummary{results.OpBook: d.LatencyMs[results.OpBook]}
	d.Users.TimeToBook, d.Users.TimeToOutcome = "", ""
	if err := small.Write(&buf); err != nil {
		f.Fatal(err)
	}
	full := buf.Bytes()
	f.Add(full)
	f.Add(full[:len(full)/2])
	// The same with bookings by partition.
	resultstest.WithPartitions(small, 1)
	var parts bytes.Buffer
	if err := small.Write(&parts); err != nil {
		f.Fatal(err)
	}
	f.Add(parts.Bytes())
	f.Add([]byte(`{"format":1,"engine":"live","designs":[{"design":"x","requests":{"total":0}}]}`))
	f.Add([]byte(`{"format":1,"engine":"live","designs":[{"design":"x","requests":{"total":5,"by_status":{"404":4,"200":1},"unexpected":5,"unexpected_by_answer":{"404 not_found":4,"200 unreadable":1}},"slots":{"capacity":3,"booked":5,"oversold":2}}]}`))
	f.Add([]byte(`{"name":"not slotrush","version":3}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte(`{"format":1,"engine":"live","designs":[{"design":"x","histograms":{"book":"HISTFAAAACh4nJNpmSzMwMDAwQABzFCaEUzOmNZg"}}]}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := results.ReadResult("fuzz.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		var once bytes.Buffer
		if err := r.Write(&once); err != nil {
			t.Fatalf("Write: %v", err)
		}
		r2, err := results.ReadResult("again.json", once.Bytes())
		if err != nil {
			t.Fatalf("a result that passed does not read back: %v\n%s", err, once.Bytes())
		}
		var twice bytes.Buffer
		if err := r2.Write(&twice); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Errorf("round trip changed the result:\n%s\n---\n%s", once.Bytes(), twice.Bytes())
		}
	})
}

// FuzzDecodeHistogram checks that no histogram text panics the decoder.
func FuzzDecodeHistogram(f *testing.F) {
	h := results.NewLatencyHistogram()
	for v := int64(1); v < 1e6; v *= 3 {
		_ = h.RecordValue(v)
	}
	good, err := results.EncodeHistogram(h)
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(good)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(base64.StdEncoding.EncodeToString(raw[:12]))
	f.Add("")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := results.DecodeHistogram(s)
		if err == nil {
			_ = results.Summarize(h)
		}
	})
}

func TestDecodeHistogramMalformed(t *testing.T) {
	t.Parallel()
	h := results.NewLatencyHistogram()
	_ = h.RecordValue(1000)
	good, _ := results.EncodeHistogram(h)
	raw, _ := base64.StdEncoding.DecodeString(good)
	bad := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	negLen := append([]byte(nil), raw...)
	negLen[4] = 0xff // compressed length negative
	for name, s := range map[string]string{
		"empty":        "",
		"not base64":   "@@@",
		"short":        bad(raw[:5]),
		"cookie only":  bad(raw[:8]),
		"negative len": bad(negLen),
		"truncated":    good[:len(good)/2],
	} {
		if _, err := results.DecodeHistogram(s); err == nil {
			t.Errorf("%s: results.DecodeHistogram = nil error", name)
		}
	}
	if _, err := results.DecodeHistogram(good); err != nil {
		t.Errorf("good histogram: %v", err)
	}
}

// FuzzDecodePartitionSeconds checks that the decoder of a series' seconds
// never panics, and that what it accepts encodes back to seconds that
// decode the same.
func FuzzDecodePartitionSeconds(f *testing.F) {
	secs := []results.PartitionSecond{
		{TS: 0, PartitionCounts: results.PartitionCounts{Requests: 4, NotOpen: 4}},
		{TS: 3, PartitionCounts: results.PartitionCounts{Requests: 5, OK: 2, Throttled: 2, Transport: 1},
			Latency: []results.LatencyBin{{From: 900, Count: 4}, {From: 30_015_488, Count: 1}}},
	}
	enc, err := results.EncodePartitionSeconds(secs)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	f.Add(enc[:len(enc)/2])
	f.Add("")
	f.Add("eJxjZGBgAAAACAAD")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := results.DecodePartitionSeconds(s)
		if err != nil {
			return
		}
		again, err := results.EncodePartitionSeconds(got)
		if err != nil {
			t.Fatalf("decoded seconds do not encode: %v", err)
		}
		back, err := results.DecodePartitionSeconds(again)
		if err != nil {
			t.Fatalf("re-encoded seconds do not decode: %v", err)
		}
		if len(back) != len(got) || (len(got) > 0 && !reflect.DeepEqual(back, got)) {
			t.Errorf("round trip changed the seconds: %+v → %+v", got, back)
		}
	})
}
