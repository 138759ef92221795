package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	refserver "github.com/slotrush/slotrush/reference-server"
	"github.com/slotrush/slotrush/reference-server/store"
	"github.com/slotrush/slotrush/reference-server/storeurl"
	"github.com/slotrush/slotrush/scenarios"
)

func init() { addCommand(newServeCmd) }

// serveOptions are the flags of slotrush serve.
type serveOptions struct {
	design    string
	scenario  string
	data      string
	store     string
	addr      string
	shutdown  time.Duration
	opensIn   time.Duration
	verbose   bool
	unlimited bool
	faults    []string // --fault, as given
}

func newServeCmd() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve --design NAME (--data DIR | --store URL) [--addr 127.0.0.1:8080] [--scenario NAME|FILE] [--fault SPEC]...",
		Short: "Run the reference booking server for one design",
		Long: `serve runs the reference booking server (API v1) with its slot storage split by
one design, each partition an independent SQLite file in --data (WAL,
synchronous=FULL: a 201 survives kill -9). An existing data directory is
reopened with its bookings; one holding another design or inventory is refused.
SIGINT or SIGTERM shuts it down gracefully.

--store puts the partitions on a database server instead:
  --store postgres://USER@HOST:PORT/DB   PostgreSQL (several URLs, comma-separated, are shards)
  --store dynamodb://HOST:PORT           DynamoDB Local or another endpoint over plain HTTP
  --store dynamodb://aws                 AWS DynamoDB (region and credentials from the AWS environment)
Schemas or tables are created if absent and reopened if present. Such a store
keeps one booking per person itself, so several serve processes may share it;
each process keeps its own per-partition limits.

A design named ...+waiting-room puts a virtual waiting room in front of the
booking API (POST /api/v1/queue, GET /api/v1/queue/{ticket}; every booking call
then needs the admission token as "Authorization: Bearer <token>"). Its policy
comes from the scenario's waiting_room section. It opens at start, or
--opens-in later; a room that opened in an earlier run on the same --data keeps
its opening, order, tickets and admissions.

--fault SPEC (repeatable) injects a storage fault into one partition, at the
store seam, timed from the opening of bookings (start, or --opens-in):
partition=hottest is the partition with the most first choices in the
scenario's crowd (drawn from its seed). A scenario's own faults: are for
slotrush run; serve injects only --fault.

Exit codes: 0 after a graceful shutdown, 1 a failure while serving, 2 bad
input (a missing or bad flag, scenario or design, an --addr it cannot listen
on, a --data directory in use, a --data or --store holding another design or
inventory, more partitions than the limit on open files allows). A store that
cannot be reached exits 1 with the engine, the address and what to check.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.run(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.design, "design", "", "design: monolithic, per-ppv or per-ppv-day, optionally +waiting-room (required)")
	f.StringVar(&o.scenario, "scenario", "demo", "scenario NAME or FILE giving the slot inventory and the per-partition limits")
	f.BoolVar(&o.unlimited, "unlimited", false, "drop every per-partition limit (no 429 or 503 from limits)")
	f.StringVar(&o.data, "data", "", "data directory of the SQLite store, created when absent, reopened when present (required with --store sqlite)")
	f.StringVar(&o.store, "store", "sqlite", "storage engine: "+storeurl.Spellings+" (see README: Stores)")
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	f.DurationVar(&o.shutdown, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown waits for requests in flight")
	f.DurationVar(&o.opensIn, "opens-in", 0, "open bookings (and the waiting room's admission) this long after start; 0 opens at once")
	f.BoolVar(&o.verbose, "verbose", false, "log refused requests too")
	f.StringArrayVar(&o.faults, "fault", nil, "storage fault injected into a partition, repeatable:\n"+faultGrammar)
	return cmd
}

// serveDesign resolves --scenario and --design to the scenario, the
// inventory to serve and the design with its per-partition limits: the
// scenario's own limits for a design it lists, else those of its first
// design with a note. With unlimited, every limit is dropped.
func serveDesign(scenario, name string, unlimited bool, stderr io.Writer) (*scenarios.Scenario, models.Inventory, models.Design, error) {
	sc, err := scenarios.Load(scenario)
	if err != nil {
		return nil, models.Inventory{}, models.Design{}, fmt.Errorf("--scenario %q: %w", scenario, err)
	}
	inv, d, err := scenarioDesign(sc, name, unlimited, stderr)
	return sc, inv, d, err
}

// scenarioDesign is serveDesign once the scenario is loaded.
func scenarioDesign(sc *scenarios.Scenario, name string, unlimited bool, stderr io.Writer) (models.Inventory, models.Design, error) {
	var d models.Design
	if ds, err := sc.BuildDesigns([]string{name}); err == nil {
		d = ds[0]
	} else {
		if d, err = models.ParseDesign(name, sc.Designs[0].Limits); err != nil {
			return models.Inventory{}, models.Design{}, fmt.Errorf("--design: %w", err)
		}
		fmt.Fprintf(stderr, "slotrush serve: scenario %s does not list %s; using the limits of %s\n", sc.Name, name, sc.Designs[0].Name)
		if d.WaitingRoom {
			d.Room = sc.RoomPolicy()
		}
	}
	if unlimited {
		d.Limits = models.Limits{}
	}
	if d.WaitingRoom {
		if errs := d.Room.Validate(); len(errs) > 0 {
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			return models.Inventory{}, models.Design{}, fmt.Errorf("--design %s has a waiting room, but scenario %s cannot run it (%s): "+
				"set, under waiting_room: in the scenario file, admit_per_interval (people admitted every interval) "+
				"and/or max_active (people inside at once), order (fifo or random) and token_ttl; the refresh-storm preset has an example",
				name, sc.Name, strings.Join(msgs, "; "))
		}
	}
	return sc.BuildInventory(), d, nil
}

// serveFaults parses --fault and resolves each to a partition of design
// over inv: hottest from the scenario's crowd drawn from its seed.
func serveFaults(flags []string, sc *scenarios.Scenario, design models.Design, inv *models.Inventory) ([]fault.Spec, error) {
	specs := make([]fault.Spec, 0, len(flags))
	for _, f := range flags {
		sp, err := fault.Parse(f)
		if err != nil {
			return nil, fmt.Errorf("--fault %w", err)
		}
		specs = append(specs, sp)
	}
	return fault.Resolve(specs, design, inv, func() models.PartitionKey {
		return sc.HottestPartition(design, sc.Arrivals(sc.Seed))
	})
}

// describeRoom describes a design's waiting room for the start-up line.
func describeRoom(d models.Design) string {
	if !d.WaitingRoom {
		return ""
	}
	return "waiting room " + d.Room.String() + ", "
}

// describeEngine names a store's engine and version for the start-up line.
func describeEngine(e store.Engine) string {
	return strings.TrimSpace(e.Name + " " + e.Version)
}

// check returns an error naming the first missing or bad flag, nil when
// all are good.
func (o *serveOptions) check() error {
	switch {
	case o.design == "":
		return errors.New("serve: --design is required (monolithic, per-ppv or per-ppv-day)")
	case o.data == "" && (o.store == "" || o.store == storeurl.SQLite):
		return errors.New("serve: --data is required with the SQLite store (the directory holding the partitions)")
	case o.shutdown <= 0:
		return fmt.Errorf("serve: --shutdown-timeout %v must be positive", o.shutdown)
	case o.opensIn < 0:
		return fmt.Errorf("serve: --opens-in %v must not be negative (0 opens at once)", o.opensIn)
	}
	return nil
}

// run serves until ctx is done. Its bad inputs (scenario, design, --addr,
// --data, the limit on open files) exit 2.
func (o *serveOptions) run(ctx context.Context, stdout, stderr io.Writer) error {
	if err := o.check(); err != nil {
		return badRunInput(err)
	}
	spec, err := storeurl.Parse(o.store)
	if err != nil {
		return badRunInput(fmt.Errorf("serve: %w", err))
	}
	sc, inv, design, err := serveDesign(o.scenario, o.design, o.unlimited, stderr)
	if err != nil {
		return badRunInput(fmt.Errorf("serve: %w", err))
	}
	faults, err := serveFaults(o.faults, sc, design, &inv)
	if err != nil {
		return badRunInput(fmt.Errorf("serve: %w", err))
	}
	if spec.Engine == storeurl.SQLite {
		if err := systemFileLimit.check(designFiles(design, &inv, 0)); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return badRunInput(fmt.Errorf("serve: --addr: cannot listen on %s: %w", o.addr, err))
	}
	opts := append([]refserver.Option{refserver.WithLogger(logger), refserver.WithStoreOpener(spec.Opener()), refserver.WithFaults(faults)},
		serveOpenings(o.opensIn, sc)...)
	srv, err := refserver.New(design, inv, o.data, opts...)
	if err != nil {
		err = errors.Join(err, ln.Close())
		if errors.Is(err, store.ErrLocked) || errors.Is(err, store.ErrMismatch) {
			where := "--data " + o.data
			if spec.Engine != storeurl.SQLite {
				where = "--store " + spec.String()
			}
			return badRunInput(fmt.Errorf("serve: %s: %w", where, err))
		}
		return fmt.Errorf("serve: %w", err)
	}
	hs := refserver.NewHTTPServer(ln.Addr().String(), srv.Handler())
	hs.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }() // Serve closes ln when it returns
	fmt.Fprintf(stdout, "slotrush serve: design %s, %d partitions, %sstore %s, listening on http://%s\n",
		design.Name, len(srv.Partitions()), describeRoom(design), describeEngine(srv.Engine()), ln.Addr())
	for _, f := range faults {
		fmt.Fprintf(stdout, "slotrush serve: fault: %s after the opening of bookings\n", f.Describe())
	}

	select {
	case err := <-served: // Serve failed; it never returns nil
		return fmt.Errorf("serve: %w", errors.Join(err, srv.Close()))
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", o.shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdown)
	defer cancel()
	shutErr := hs.Shutdown(sctx)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("serve ended", "err", err)
	}
	if err := srv.Close(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if shutErr != nil {
		return fmt.Errorf("serve: graceful shutdown: %w", shutErr)
	}
	logger.Info("stopped")
	return nil
}
