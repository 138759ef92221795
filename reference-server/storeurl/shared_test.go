package storeurl_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/slotrush/slotrush/models"
	refserver "github.com/slotrush/slotrush/reference-server"
	"github.com/slotrush/slotrush/reference-server/api"
	"github.com/slotrush/slotrush/reference-server/storeurl"
	"github.com/slotrush/slotrush/reference-server/storeurl/storeurltest"
)

// TestTwoServersOneStore runs two reference servers over one PostgreSQL or
// DynamoDB store, each behind its own HTTP server, and has a crowd larger
// than the places book through both at once: every person asks each server
// for another slot, some repeat one Idempotency-Key on both. Checked
// through the API afterwards: no slot oversold, one booking per person,
// every booking answered 201 readable from either server, and a replay
// answered (201) with the booking it repeats.
func TestTwoServersOneStore(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{storeurl.PostgreSQL, storeurl.DynamoDB} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			spec, err := storeurl.Parse(storeurltest.URL(t, engine))
			if err != nil {
				t.Fatal(err)
			}
			inv := models.SmallInventory()
			for i := range inv.Slots {
				inv.Slots[i].Capacity = 4 // 36 places for 60 people
			}
			d, err := models.ParseDesign("per-ppv-day", models.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			urls := [2]string{startServer(t, spec, d, inv), startServer(t, spec, d, inv)}
			won := bookThroughBoth(t, urls, inv, 60)
			checkThroughAPI(t, urls, inv, won)
		})
	}
}

// startServer starts a reference server of d over inv on spec's store
// behind an httptest server and returns its URL.
func startServer(t *testing.T, spec *storeurl.Spec, d models.Design, inv models.Inventory) string {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := refserver.New(d, inv, t.TempDir(), refserver.WithStoreOpener(spec.Opener()), refserver.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return hs.URL
}

// attempt is one booking request and its answer.
type attempt struct {
	person, key string
	status      int
	booking     models.Booking
}

// bookThroughBoth has people persons book at once through both servers:
// person i asks server 0 for slot i and server 1 for slot i+1; every
// third person sends both with one Idempotency-Key (and the same slot, so
// the second is a replay). It returns the 201 answers by person.
func bookThroughBoth(t *testing.T, urls [2]string, inv models.Inventory, people int) map[string][]attempt {
	t.Helper()
	var mu sync.Mutex // guards won
	won := map[string][]attempt{}
	var wg sync.WaitGroup
	for i := range people {
		for srv := range 2 {
			slot := inv.Slots[(i+srv)%len(inv.Slots)]
			key := fmt.Sprintf("k%d-%d", i, srv)
			if i%3 == 0 {
				slot, key = inv.Slots[i%len(inv.Slots)], fmt.Sprintf("k%d", i)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := book(t, urls[srv], fmt.Sprint("p", i), key, slot)
				switch a.status {
				case http.StatusCreated:
					mu.Lock()
					won[a.person] = append(won[a.person], a)
					mu.Unlock()
				case http.StatusConflict:
				default:
					t.Errorf("POST booking of %s = %d; want 201, 200 (replay) or 409", a.person, a.status)
				}
			}()
		}
	}
	wg.Wait()
	return won
}

// book posts one booking request and decodes a 2xx answer.
func book(t *testing.T, base, person, key string, s models.Slot) attempt {
	body := fmt.Sprintf(`{"person_id":%q,"ppv":%q,"date":%q}`, person, s.PPV, s.Date)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/bookings", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return attempt{person: person}
	}
	defer resp.Body.Close()
	a := attempt{person: person, key: key, status: resp.StatusCode}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, &a.booking); err != nil {
			t.Errorf("decode %s: %v", b, err)
		}
	}
	return a
}

// checkThroughAPI checks, through the servers' API only, that every
// person holds one booking, that each is readable from both servers, and
// that the slots' remaining places agree with the bookings made.
func checkThroughAPI(t *testing.T, urls [2]string, inv models.Inventory, won map[string][]attempt) {
	t.Helper()
	bookings := 0
	for person, as := range won {
		for _, a := range as[1:] {
			if a.booking.ID != as[0].booking.ID {
				t.Errorf("person %s holds two bookings: %s and %s", person, as[0].booking.ID, a.booking.ID)
			}
		}
		bookings++
		for _, base := range urls {
			var got models.Booking
			if code := getJSON(t, base+"/api/v1/bookings/"+as[0].booking.ID, &got); code != http.StatusOK || got.PersonID != person {
				t.Errorf("GET %s from %s = %d %+v; want 200 for %s", as[0].booking.ID, base, code, got, person)
			}
		}
	}
	taken := 0
	for _, ppv := range inv.PPVs {
		var slots []api.Slot
		if code := getJSON(t, urls[1]+"/api/v1/ppvs/"+ppv.ID+"/slots", &slots); code != http.StatusOK {
			t.Fatalf("GET slots of %s = %d", ppv.ID, code)
		}
		for _, s := range slots {
			if s.Remaining < 0 || s.Remaining > s.Capacity {
				t.Errorf("slot %s %s: %d of %d remaining", ppv.ID, s.Date, s.Remaining, s.Capacity)
			}
			taken += s.Capacity - s.Remaining
		}
	}
	if taken != bookings || bookings == 0 || bookings > inv.TotalCapacity() {
		t.Errorf("%d places taken, %d people booked, %d places; want one place taken per person booked", taken, bookings, inv.TotalCapacity())
	}
}

// getJSON gets url into v and returns the status.
func getJSON(t *testing.T, url string, v any) int {
	resp, err := http.Get(url) //nolint:noctx // a test against httptest
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}
