package sim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/slotrush/slotrush/sim"
)

// At 8 requests/s for 500ms the pacer schedules exactly 4 requests, due at
// 0, 125, 250 and 375ms. Each is sent (then answered, or failed, and
// counted either way) or, when no worker could send it before the end,
// dropped: sent + dropped is 4 however loaded the machine. Requests still
// in flight at the end are waited for up to the grace (here Timeout, 10s),
// so every request sent to this server is answered 200 and timed.
func ExampleAttack() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()

	res, err := sim.Attack(context.Background(), sim.AttackOptions{
		URL:        srv.URL,
		Rate:       8,
		Duration:   500 * time.Millisecond,
		MaxWorkers: 4,
		Timeout:    10 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sent + dropped:", res.Sent+res.Dropped)
	fmt.Println("every request sent answered 200 and timed:",
		res.ByStatus[http.StatusOK] == res.Sent && res.Transport == 0 && res.Latency.TotalCount() == res.Sent)
	// Output:
	// sent + dropped: 4
	// every request sent answered 200 and timed: true
}
