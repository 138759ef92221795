package refserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/api"
)

// TestAbout: GET /api/v1/about states the design, scheme, partitions,
// limits per partition, waiting room and store, with no token even behind a
// waiting room; other methods get 405 and a closed server 503.
func TestAbout(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	limits := models.Limits{WriteRate: 50, WriteBurst: 5, ReadRate: 100, ReadBurst: 10, MaxInFlight: 4, MaxQueue: 8, MaxWait: 200 * time.Millisecond}
	no, yes := false, true
	tests := []struct {
		name string
		ts   *testServer
		want api.About
	}{
		{"per-ppv", startServer(t, "per-ppv", limits, inv, ""),
			api.About{Design: "per-ppv", Scheme: models.PerPPV, Partitions: len(inv.PPVs), Limits: &limits, WaitingRoom: &no}},
		{"monolithic unlimited", startServer(t, "monolithic", models.Limits{}, inv, ""),
			api.About{Design: "monolithic", Scheme: models.Monolithic, Partitions: 1, Limits: &models.Limits{}, WaitingRoom: &no}},
		{"room", startRoom(t, roomPolicy, inv, "", nil),
			api.About{Design: "per-ppv-day+waiting-room", Scheme: models.PerPPVDay, Partitions: len(inv.Slots), Limits: &models.Limits{}, WaitingRoom: &yes}},
	}
	for _, tt := range tests {
		r := tt.ts.do(t, http.MethodGet, "/api/v1/about", nil, nil)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: GET /api/v1/about = %d %q %s; want 200 JSON", tt.name, r.status, r.header.Get("Content-Type"), r.body)
		}
		var got api.About
		dec := json.NewDecoder(strings.NewReader(string(r.body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("%s: decode %s: %v", tt.name, r.body, err)
		}
		if got.Store.Engine == "" || got.Store.Durability != Durability {
			t.Errorf("%s: store = %+v; want an engine and durability %q", tt.name, got.Store, Durability)
		}
		got.Store = api.AboutStore{}
		if !aboutEqual(got, tt.want) {
			t.Errorf("%s: about = %s; want %+v", tt.name, r.body, tt.want)
		}
	}
	ts := tests[0].ts
	if r := ts.do(t, http.MethodPost, "/api/v1/about", nil, nil); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /api/v1/about = %d Allow %q; want 405 Allow GET, HEAD", r.status, r.header.Get("Allow"))
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if r := ts.do(t, http.MethodGet, "/api/v1/about", nil, nil); r.status != http.StatusServiceUnavailable || r.code() != string(CodeUnavailable) {
		t.Errorf("GET /api/v1/about after Close = %d %s; want 503 unavailable", r.status, r.body)
	}
}

func aboutEqual(a, b api.About) bool {
	return a.Design == b.Design && a.Scheme == b.Scheme && a.Partitions == b.Partitions &&
		(a.Limits == nil) == (b.Limits == nil) && (a.Limits == nil || *a.Limits == *b.Limits) &&
		(a.WaitingRoom == nil) == (b.WaitingRoom == nil) && (a.WaitingRoom == nil || *a.WaitingRoom == *b.WaitingRoom) &&
		a.Store == b.Store
}

// An empty object states nothing; any stated field does.
func TestAboutStated(t *testing.T) {
	t.Parallel()
	f := false
	for _, tt := range []struct {
		a    api.About
		want bool
	}{
		{api.About{}, false},
		{api.About{WaitingRoom: &f}, true},
		{api.About{Limits: &models.Limits{}}, true},
		{api.About{Store: api.AboutStore{Version: "16"}}, true},
		{api.About{Partitions: 3}, true},
	} {
		if got := tt.a.Stated(); got != tt.want {
			t.Errorf("%+v.Stated() = %v; want %v", tt.a, got, tt.want)
		}
	}
}
