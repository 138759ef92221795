package profile_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/sim/profile"
)

// A profile builds each operation's request and reads its answer.
func Example() {
	p, err := profile.Parse("centres.yaml", []byte(`
operations:
  list_ppvs:
    path: /centres
    query: {region: "{{.State}}"}
    read: {list: data.items, id: code}
  list_slots:
    path: /centres/{{.PPV}}/availability
    read: {list: data.items, date: day, remaining: free}
  book:
    path: /reservations
    body: '{"citizen": {{json .PersonID}}, "centre": {{json .PPV}}, "day": {{json .Date}}}'
    read: {id: reservation.ref}
outcomes:
  - kind: sold_out
    status: 410
    when: {path: reason, equals: FULL}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := profile.Request{Op: results.OpBook, PPV: "KL 1", Date: models.Date{Year: 2021, Month: 6, Day: 7}, PersonID: "P1"}
	req, _ := p.NewRequest(context.Background(), "https://booking.example", &r)
	fmt.Println(req.Method, req.URL, req.Header.Get("Content-Type"))

	a := p.Decode(&r, 200, http.Header{}, []byte(`{"reservation":{"ref":"R-7"}}`))
	fmt.Println(a.Kind, a.BookingID)
	a = p.Decode(&r, 410, http.Header{}, []byte(`{"reason":"FULL"}`))
	fmt.Println(a.Kind)
	// Output:
	// POST https://booking.example/reservations application/json
	// ok R-7
	// sold_out
}

// Every problem of a profile is reported at once, each at its place.
func ExampleParse_errors() {
	_, err := profile.Parse("bad.yaml", []byte(`
operations:
  list_ppvs: {path: /centres, read: {list: items, id: code}}
  list_slots: {path: "centres/{{.PPV}}", read: {list: items, date: day, remaining: free}}
  book: {method: SEND, path: /book, read: {id: ref}}
outcomes:
  - {kind: full, status: 410}
`))
	fmt.Println(err)
	// Output:
	// bad.yaml:4:22: operations.list_slots.path: want a path starting with /, got "centres/{{.PPV}}"
	// bad.yaml:5:18: operations.book.method: unknown method "SEND": want GET, POST, PUT, PATCH or DELETE
	// bad.yaml:7:12: outcomes[0].kind: unknown kind "full": want one of ok, sold_out, already_booked, throttled, overloaded, not_admitted, not_found, rejected, server_error, unexpected, step_failed
}
