package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/sim"
)

// This file is run's wiring for --target: systems slotrush did not start.
// The logic (inventory, statement, audit) is in sim/target.go.

const (
	// targetReadTimeout bounds each read around a target's run (inventory,
	// about, audit); they are not measured, so the journey's timeout does
	// not apply.
	targetReadTimeout = 10 * time.Second
	// auditWorkers is the number of audit reads in flight at most.
	auditWorkers = 4
)

// target is one system given with --target: the column's name and the
// base URL of its API.
type target struct {
	name string
	url  string
}

// targetName is what a NAME of --target NAME=URL may hold.
var targetName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$`)

// parseTargets parses the values of --target, in order: NAME=URL, or a
// bare URL named after its host (host:port). It returns an error for a bad
// name or URL and for a name given twice.
func parseTargets(specs []string) ([]target, error) {
	var out []target
	seen := map[string]string{}
	for _, spec := range specs {
		t, err := parseTarget(spec)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[t.name]; ok {
			return nil, fmt.Errorf("--target: name %q given twice (%s and %s): give each target its own name, --target NAME=URL", t.name, prev, t.url)
		}
		seen[t.name] = t.url
		out = append(out, t)
	}
	return out, nil
}

// parseTarget parses one --target value. A value is NAME=URL when the text
// before its first "=" could be a name (no "/"), else a bare URL.
func parseTarget(spec string) (target, error) {
	name, raw, named := strings.Cut(spec, "=")
	if !named || strings.Contains(name, "/") {
		name, raw, named = "", spec, false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return target{}, fmt.Errorf("--target %q: bad URL %q: want [NAME=]http(s)://host[:port][/path]", spec, raw)
	}
	switch {
	case !named:
		name = u.Host
	case !targetName.MatchString(name):
		return target{}, fmt.Errorf("--target %q: name %q: want 1 to 64 letters, digits and . _ : + -, starting with a letter or digit", spec, name)
	}
	return target{name: name, url: strings.TrimRight(raw, "/")}, nil
}

// runTargets checks that every target answers and lists the crowd's
// centres, clears the outputs of an earlier run, then runs the crowd
// against each target in turn, appending a column to e.res per target and
// writing the result as each finishes (runColumns). A target that fails
// after others ran has the result of those written first (marked
// interrupted), then its error.
func (o *runOptions) runTargets(ctx context.Context, e *runEnv, targets []target) error {
	if len(targets) == 1 {
		e.res.Target = targets[0].url
	}
	fmt.Fprintf(e.stdout, "slotrush run: scenario %s, %d users, seed %d, %d target(s)\n",
		e.sc.Name, len(e.crowd), e.res.Seed, len(targets))
	names := make([]string, len(targets))
	for i, t := range targets {
		if _, err := readTargetInventory(ctx, t, e); err != nil {
			return err
		}
		names[i] = t.name
	}
	if err := clearOutputs(o.out, nil); err != nil {
		return err
	}
	return runColumns(ctx, e, "target", names, func(i int) (*results.DesignResult, error) {
		return o.runTarget(ctx, e, targets[i])
	})
}

// runTarget resets target t (--reset), reads its inventory and what it
// states about itself, runs the crowd against it and audits its 201s
// through its API, and returns its column.
func (o *runOptions) runTarget(ctx context.Context, e *runEnv, t target) (*results.DesignResult, error) {
	if err := runReset(ctx, o.reset, t, e.stderr); err != nil {
		return nil, err
	}
	inv, err := readTargetInventory(ctx, t, e)
	if err != nil {
		return nil, err
	}
	tr := sim.NewTransport()
	defer tr.CloseIdleConnections()
	about, why := sim.ReadAbout(ctx, tr, t.url, targetReadTimeout)
	dr := &results.DesignResult{
		Design: t.name, Target: &results.Target{Name: t.name, URL: t.url}, Assumptions: sim.StatedAssumptions(about),
	}
	stated := "states nothing about itself (" + fmt.Sprint(why) + ")"
	if about != nil {
		stated = fmt.Sprintf("states design %q, scheme %q, %d partition(s), waiting room %v", about.Design, about.Scheme, about.Partitions, dr.Assumptions.WaitingRoom)
	}
	fmt.Fprintf(e.stdout, "target %s (%s): %d centres, %d slots, %d places left of %d; %s\n", t.name, t.url,
		len(inv.Inventory.PPVs), len(inv.Inventory.Slots), inv.RemainingPlaces(), inv.Inventory.TotalCapacity(), stated)
	client, err := sim.NewClient(t.url, tr, e.sc.Journey.RequestTimeout, e.clientOpts()...)
	if err != nil {
		return nil, badRunInput(err)
	}
	if err := waitStart(ctx, e.res); err != nil {
		return nil, err
	}
	dr.Target.Profile = client.Profile().Name()
	room := dr.Assumptions.WaitingRoom && client.Profile().Has(results.OpQueue)
	progress, finish := e.showProgress("target "+t.name, inv.RemainingPlaces())
	defer finish()
	opts := append([]sim.LiveOption{sim.WithWaitingRoom(room), sim.WithGrace(e.grace)}, append(progress, journeyLiveOptions(e.sc)...)...)
	run := sim.NewLive(client, e.sc.Journey, e.sc.Duration, opts...).Run(ctx, e.crowd)
	ids, err := sim.FillLive(run, dr)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.name, err)
	}
	var audit *sim.APIAudit
	if !run.Interrupted {
		audit = o.audit(ctx, e, t, tr, ids)
	}
	lost, found := o.resolveLost(ctx, e, t, tr, run.Recorder.LostBookings())
	if err := sim.FillTargetSlots(dr, inv, ids, audit, lost); err != nil {
		return nil, fmt.Errorf("target %s: %w", t.name, err)
	}
	dr.Slots.Booked += int64(found)
	return dr, nil
}

// audit reads back the bookings ids of target t through its API at
// --audit-rate and says on e.stdout what it found.
func (o *runOptions) audit(ctx context.Context, e *runEnv, t target, tr *http.Transport, ids []string) *sim.APIAudit {
	reads, err := sim.NewClient(t.url, tr, targetReadTimeout, e.clientOpts()...)
	if err != nil { // cannot happen: the URL was checked
		return nil
	}
	if len(ids) > 0 {
		fmt.Fprintf(e.stdout, "target %s: auditing %d bookings answered 201 through the API at %.0f reads/s\n", t.name, len(ids), o.auditRate)
	}
	a := sim.AuditBookings(ctx, reads, ids, o.auditRate, auditWorkers)
	fmt.Fprintf(e.stdout, "target %s: %d answered 201: %d found, %d missing (404)", t.name, a.Answered201, a.Found, a.Missing)
	if a.Unread > 0 {
		fmt.Fprintf(e.stdout, ", %d could not be read and are counted in neither (first: %s)", a.Unread, a.FirstUnread)
	}
	fmt.Fprintln(e.stdout)
	return a
}

// readTargetInventory reads target t's inventory through its API and checks
// that it lists every centre e's crowd asks for. Its errors are bad input.
func readTargetInventory(ctx context.Context, t target, e *runEnv) (*sim.TargetInventory, error) {
	tr := sim.NewTransport()
	defer tr.CloseIdleConnections()
	c, err := sim.NewClient(t.url, tr, targetReadTimeout, e.clientOpts()...)
	if err != nil {
		return nil, badRunInput(fmt.Errorf("target %s: %w", t.name, err))
	}
	inv, err := sim.ReadInventory(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("target %s: interrupted while reading its inventory", t.name)
		}
		return nil, badRunInput(fmt.Errorf("target %s (%s): cannot read its inventory through its API (is it up?): %w", t.name, t.url, err))
	}
	if missing := inv.MissingPPVs(e.crowd); len(missing) > 0 {
		have := make([]string, len(inv.Inventory.PPVs))
		for i, p := range inv.Inventory.PPVs {
			have[i] = p.ID
		}
		return nil, badRunInput(fmt.Errorf("target %s (%s) lacks %d centre(s) scenario %s's crowd asks for: %s (it lists: %s)",
			t.name, t.url, len(missing), e.sc.Name, strings.Join(missing, ", "), strings.Join(have, ", ")))
	}
	return inv, nil
}

// runReset runs the shell command cmd (sh -c) before target t's run, with
// SLOTRUSH_TARGET_NAME and SLOTRUSH_TARGET_URL set and its output on w.
// An empty cmd does nothing. Its failure is bad input.
func runReset(ctx context.Context, cmd string, t target, w io.Writer) error {
	if cmd == "" {
		return nil
	}
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	c.Env = append(os.Environ(), "SLOTRUSH_TARGET_NAME="+t.name, "SLOTRUSH_TARGET_URL="+t.url)
	c.Stdout, c.Stderr = w, w
	if err := c.Run(); err != nil {
		return badRunInput(fmt.Errorf("target %s: --reset %q failed: %w", t.name, cmd, err))
	}
	return nil
}

// resolveLost asks target t, when its profile can look a person's booking
// up, about the users (crowd indexes) whose booking answer was lost. It
// returns the users still unresolved and how many lost answers turn out
// to be bookings that exist.
func (o *runOptions) resolveLost(ctx context.Context, e *runEnv, t target, tr *http.Transport, lost []int) ([]int, int) {
	if len(lost) == 0 || ctx.Err() != nil {
		return lost, 0
	}
	c, err := sim.NewClient(t.url, tr, targetReadTimeout, e.clientOpts()...)
	if err != nil || !c.Profile().Has(results.OpFindBooking) {
		return lost, 0
	}
	index := make(map[string]int, len(lost))
	persons := make([]string, len(lost))
	for k, i := range lost {
		persons[k] = e.crowd[i].PersonID
		index[persons[k]] = i
	}
	unresolved, found := sim.ResolveLost(ctx, c, persons, o.auditRate)
	left := make([]int, len(unresolved))
	for k, p := range unresolved {
		left[k] = index[p]
	}
	fmt.Fprintf(e.stdout, "target %s: %d lost booking answers looked up by person: %d booked, %d not, %d unresolved\n",
		t.name, len(lost), len(found), len(lost)-len(found)-len(left), len(left))
	return left, len(found)
}
