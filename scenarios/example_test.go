package scenarios_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/slotrush/slotrush/scenarios"
)

// Load a built-in preset by name: it comes back with defaults filled in and
// validated.
func ExampleLoad() {
	sc, err := scenarios.Load("ci-smoke")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("name:", sc.Name)
	fmt.Println("users:", sc.Crowd.Size)
	fmt.Println("places:", sc.TotalCapacity(), "in", sc.NumPPVs(), "PPVs")
	fmt.Println("duration:", sc.Duration)
	fmt.Println("designs:", sc.DesignNames())
	// Output:
	// name: ci-smoke
	// users: 400
	// places: 300 in 3 PPVs
	// duration: 5s
	// designs: [monolithic per-ppv per-ppv-day]
}

// Load a scenario file with mistakes: every problem is reported at once, as
// an ErrorList whose entries say file:line:col, the field and the problem.
func ExampleLoad_errors() {
	dir, err := os.MkdirTemp("", "scenarios-example")
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "rush.yaml")
	data := `inventory:
  daily_capacity: 100
  states: [selangor]
crowd:
  size: 1.5
journey:
  think_time: 20
  patinece: 5s
`
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		log.Fatal(err)
	}

	_, err = scenarios.Load(path)
	if rmErr := os.RemoveAll(dir); rmErr != nil {
		log.Fatal(rmErr)
	}
	var list scenarios.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			e.File = filepath.Base(e.File) // not the temporary directory
			fmt.Println(e)
		}
	}
	// Output:
	// rush.yaml:5:9: crowd.size: want a whole number, got number 1.5
	// rush.yaml:7:15: journey.think_time: want a duration such as "30s" or "1m30s", got integer 20
	// rush.yaml:8:3: journey.patinece: unknown field (did you mean "patience"?)
}
