package sim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/slotrush/slotrush/sim"
)

// At 8 requests/s for 500ms the pacer sends exactly 4 requests, due at 0,
// 125, 250 and 375ms: the last has 125ms to be answered before the attack
// ends.
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
		Timeout:    time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("sent %d, 200s %d, transport errors %d, latencies %d\n",
		res.Sent, res.ByStatus[http.StatusOK], res.Transport, res.Latency.TotalCount())
	// Output:
	// sent 4, 200s 4, transport errors 0, latencies 4
}
