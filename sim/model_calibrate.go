package sim

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/slotrush/slotrush/results"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/slotrush/slotrush/models"
)

// Quantiles CalibrateModel reads (in percent, as HdrHistogram takes them).
const (
	// calibLowPercentile of the client's list_ppvs latency is reported as
	// the round trip's floor: the fastest answers carry no queueing.
	calibLowPercentile = 1
	// Listings slower than list_ppvs' calibReadCut percentile did read a
	// partition; faster ones were refused from memory (429, 503).
	calibReadCut = 99
)

// CalibrateModel returns the model parameters of design measured from live,
// a live result made with the in-process reference server (it carries each
// design's server statistics), named source in the provenance it records.
// Every parameter it cannot measure keeps its default and says so.
//
//   - RTT: the client's list_ppvs latency less the server's median
//     list_ppvs service time, resampled for each request: the round trip
//     with everything else outside the server's handler (HTTP stacks,
//     scheduling), whose spread a constant would miss (its 1st percentile,
//     the bare round trip, is reported in the source).
//   - Extra: for list_slots, book and queue, the median client latency
//     less the median server service time less the median round trip,
//     when positive: what else the live client spent on the operation.
//   - Front: the server's list_ppvs service-time histogram, resampled.
//   - Read: the server's list_slots service times slower than list_ppvs'
//     99th percentile (faster listings were refused, not read), less the
//     median Front time, divided by the partitions one listing reads (1, or
//     the days of a PPV under per-ppv-day), resampled.
//   - CommitBase and CommitPerBooking: from each partition's writer busy
//     time, batch count and mean batch size: a weighted least-squares line
//     through (mean batch size, mean batch time) when the partitions' batch
//     sizes differ enough, else the default split scaled to the measured
//     mean batch time.
//   - CommitShape: the server's histogram of group-commit durations (one
//     per write transaction, queue waits excluded), resampled: the spread
//     and tail of commit times. Results from before that histogram existed
//     fall back on the book service times slower than list_ppvs' 99th
//     percentile, which include the writer's queue waits: under load a
//     double count (the model adds its own queue), so a heavier tail.
//
// The design's own statistics are used; when live has no such design, or
// that design has no server statistics, the first design that has them
// stands in, and the sources say so. It returns an error when live is not
// a live result or has no design. Safe for concurrent use; live is only
// read.
func CalibrateModel(live *results.Result, source, design string) (ModelParams, error) {
	if live == nil || len(live.Designs) == 0 {
		return ModelParams{}, errors.New("calibrate: live result has no design")
	}
	if live.Engine != results.EngineLive {
		return ModelParams{}, fmt.Errorf("calibrate: %s is a %q result; want a live one", source, live.Engine)
	}
	d, note := calibrationDesign(live, design)
	from := fmt.Sprintf("live result %s, design %s", source, d.Design)
	if note != "" {
		from += " (" + note + ")"
	}
	c := newCalibration(from)

	var serverPPVs, serverSlots *hdrhistogram.Histogram
	if d.Server != nil {
		serverPPVs = decodeOrNil(d.Server.Service[results.OpListPPVs])
		serverSlots = decodeOrNil(d.Server.Service[results.OpListSlots])
	}
	clientPPVs := decodeOrNil(d.Histograms[results.OpListPPVs])

	c.roundTrip(clientPPVs, serverPPVs)
	c.clientExtra(d)
	c.front(serverPPVs)
	c.read(live, d, serverPPVs, serverSlots)
	// Group commit: its cost from the writers' counters, its shape from
	// the bookings that reached the writer.
	calibrateCommit(&c.p, d, c.measured, c.keep)
	c.commitShape(d, serverPPVs)
	c.assumed(ParamMaxBatch, float64(c.p.MaxBatch), "bookings", "the reference server's default (sqlitestore.WithMaxBatch); results do not record it")
	return c.p, nil
}

// calibration holds the model parameters CalibrateModel has set so far and
// the provenance of each, in the order they were set.
type calibration struct {
	def  ModelParams // the defaults, with their provenance
	p    ModelParams // the parameters being calibrated
	from string      // where measured parameters come from
}

// newCalibration returns a calibration that starts from the default
// parameters with no provenance recorded; from names the live result and
// design measured parameters come from.
func newCalibration(from string) *calibration {
	c := &calibration{def: DefaultModelParams(), from: from}
	c.p = c.def
	c.p.Calibration = nil
	return c
}

// keep records that parameter name keeps its default, with the default's
// provenance.
func (c *calibration) keep(name string) {
	for _, cp := range c.def.Calibration {
		if cp.Name == name {
			c.p.Calibration = append(c.p.Calibration, cp)
		}
	}
}

// measured records that parameter name was measured as v (in unit), how
// saying from what.
func (c *calibration) measured(name string, v float64, unit, how string) {
	c.p.Calibration = append(c.p.Calibration, results.CalibratedParameter{Name: name, Value: v, Unit: unit, Measured: true, Source: c.from + ", " + how})
}

// assumed records that parameter name is assumed to be v (in unit), why
// saying on what grounds.
func (c *calibration) assumed(name string, v float64, unit, why string) {
	c.p.Calibration = append(c.p.Calibration, results.CalibratedParameter{Name: name, Value: v, Unit: unit, Source: "assumed default: " + why})
}

// roundTrip sets RTT to the client's list_ppvs latency less the server's
// median list_ppvs service time (or the default in-memory time when the
// server's is unknown), resampled: everything outside the server's handler.
// RTT keeps its default when the client has no list_ppvs latency.
func (c *calibration) roundTrip(clientPPVs, serverPPVs *hdrhistogram.Histogram) {
	if clientPPVs == nil || clientPPVs.TotalCount() == 0 {
		c.keep(ParamRTT)
		return
	}
	server, how := time.Duration(0), "less the assumed in-memory time (no server statistics)"
	if serverPPVs != nil && serverPPVs.TotalCount() > 0 {
		server = time.Duration(serverPPVs.ValueAtQuantile(50)) * time.Microsecond
		how = fmt.Sprintf("less the server's median list_ppvs service time (%v)", server)
	} else {
		server = c.def.Front.Quantile(0.5)
	}
	rd, ok := EmpiricalDist(clientPPVs, 0, server, 1)
	if !ok {
		c.keep(ParamRTT)
		return
	}
	c.p.RTT = rd
	c.measured(ParamRTT, ms(rd.MeanDuration()), "ms", fmt.Sprintf("client list_ppvs latency (p%d %dµs, p50 %dµs, p99 %dµs) %s, resampled for each request (%s)",
		calibLowPercentile, clientPPVs.ValueAtQuantile(calibLowPercentile), clientPPVs.ValueAtQuantile(50), clientPPVs.ValueAtQuantile(99), how, rd))
}

// clientExtra sets Extra for list_slots, book and queue to what each costs
// the client beyond the server's service time and the round trip (medians),
// for the operations where that is positive. It needs the server's
// statistics of design d and the calibrated RTT.
func (c *calibration) clientExtra(d *results.DesignResult) {
	if d.Server == nil {
		return
	}
	rttMedian := c.p.RTT.Quantile(0.5)
	for _, op := range []string{results.OpListSlots, results.OpBook, results.OpQueue} {
		client, server := decodeOrNil(d.Histograms[op]), decodeOrNil(d.Server.Service[op])
		if client == nil || server == nil || client.TotalCount() == 0 || server.TotalCount() == 0 {
			continue
		}
		cl := time.Duration(client.ValueAtQuantile(50)) * time.Microsecond
		s := time.Duration(server.ValueAtQuantile(50)) * time.Microsecond
		extra := cl - s - rttMedian
		if extra <= 0 {
			continue
		}
		if c.p.Extra == nil {
			c.p.Extra = map[string]time.Duration{}
		}
		c.p.Extra[op] = extra
		c.measured(ParamExtraPrefix+op, ms(extra), "ms", fmt.Sprintf("median client %s latency (%v) less median server %s service time (%v) less the median round trip (%v)",
			op, cl, op, s, rttMedian.Round(time.Microsecond)))
	}
}

// front sets Front, the time of answers from memory, to the server's
// list_ppvs service times resampled, or keeps its default when there are
// none.
func (c *calibration) front(serverPPVs *hdrhistogram.Histogram) {
	if serverPPVs == nil {
		c.keep(ParamFront)
		return
	}
	fd, ok := EmpiricalDist(serverPPVs, 0, 0, 1)
	if !ok {
		c.keep(ParamFront)
		return
	}
	c.p.Front = fd
	c.measured(ParamFront, ms(fd.MeanDuration()), "ms", fmt.Sprintf("server service histogram of list_ppvs, resampled (%s, %d samples)", fd, serverPPVs.TotalCount()))
}

// read sets Read, the time of one partition read, from the server's
// list_slots service times slower than list_ppvs' calibReadCut percentile,
// less the calibrated median Front time, divided by the partitions one
// listing reads in design d of live, resampled. Read keeps its default when
// that cannot be measured or comes out zero.
func (c *calibration) read(live *results.Result, d *results.DesignResult, serverPPVs, serverSlots *hdrhistogram.Histogram) {
	spans, how := spansPerListing(live, d)
	if serverSlots == nil || spans <= 0 {
		c.keep(ParamRead)
		return
	}
	cut := readCut(serverPPVs)
	rd, ok := EmpiricalDist(serverSlots, cut, c.p.Front.Quantile(0.5), float64(spans))
	if !ok || rd.MeanDuration() <= 0 {
		c.keep(ParamRead)
		return
	}
	c.p.Read = rd
	c.measured(ParamRead, ms(rd.MeanDuration()), "ms", fmt.Sprintf("server service histogram of list_slots above %dµs (slower than p%d of list_ppvs: a partition was read), less the median in-memory time, divided by %d partition(s) per listing (%s), resampled (%s)",
		cut, calibReadCut, spans, how, rd))
}

// commitShape sets CommitShape from the server's histogram of group-commit
// durations in design d or, in results from before that histogram existed,
// from the book service times slower than list_ppvs' calibReadCut
// percentile. CommitShape keeps its default when neither gives a positive
// median.
func (c *calibration) commitShape(d *results.DesignResult, serverPPVs *hdrhistogram.Histogram) {
	if d.Server == nil {
		c.keep(ParamCommitShape)
		return
	}
	if commits := decodeOrNil(d.Server.Commit); commits != nil {
		if sd, ok := EmpiricalDist(commits, 0, 0, 1); ok && sd.Quantile(0.5) > 0 {
			c.p.CommitShape = sd
			c.measured(ParamCommitShape, shapeRatio(sd), "p90/p50", fmt.Sprintf("server histogram of group-commit durations (%d write transactions, without the time bookings waited for the writer), resampled as the shape of commit times (%s)", commits.TotalCount(), sd))
			return
		}
	}
	// Results written before the server recorded commit durations: fall
	// back on the book service times.
	if book := decodeOrNil(d.Server.Service[results.OpBook]); book != nil {
		cut := readCut(serverPPVs)
		if sd, ok := EmpiricalDist(book, cut, 0, 1); ok && sd.Quantile(0.5) > 0 {
			c.p.CommitShape = sd
			c.measured(ParamCommitShape, shapeRatio(sd), "p90/p50", fmt.Sprintf("server service histogram of book above %dµs (bookings that reached the writer: queue waits and commit; this result has no commit histogram), resampled as the shape of commit times (%s)", cut, sd))
			return
		}
	}
	c.keep(ParamCommitShape)
}

// readCut returns the service time (µs) above which a server's answer read
// a store: just above list_ppvs' calibReadCut percentile, or 0 when the
// server's list_ppvs service times are unknown.
func readCut(serverPPVs *hdrhistogram.Histogram) int64 {
	if serverPPVs == nil || serverPPVs.TotalCount() == 0 {
		return 0
	}
	return serverPPVs.ValueAtQuantile(calibReadCut) + 1
}

// calibrationDesign returns live's design named name, or the first design
// with server statistics, with a note saying why it stands in.
func calibrationDesign(live *results.Result, name string) (*results.DesignResult, string) {
	d, ok := live.Design(name)
	if ok && d.Server != nil {
		return d, ""
	}
	for i := range live.Designs {
		if live.Designs[i].Server != nil {
			if ok {
				return &live.Designs[i], fmt.Sprintf("standing in for %s, which has no server statistics", name)
			}
			return &live.Designs[i], fmt.Sprintf("standing in for %s, which the live result lacks", name)
		}
	}
	if ok {
		return d, "no server statistics: run live with the in-process reference server"
	}
	return &live.Designs[0], fmt.Sprintf("standing in for %s, which the live result lacks; no server statistics", name)
}

// spansPerListing returns how many partitions one listing of a PPV read in
// design d of live: 1 unless the scheme splits a PPV by day, then the days
// of the inventory (the live result's "days" parameter).
func spansPerListing(live *results.Result, d *results.DesignResult) (int, string) {
	if d.Assumptions.Scheme != models.PerPPVDay {
		return 1, string(d.Assumptions.Scheme) + " keeps a PPV in one partition"
	}
	for _, prm := range live.Parameters {
		if prm.Name != "days" {
			continue
		}
		f := strings.Fields(prm.Value)
		if len(f) > 0 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 0 {
				return n, fmt.Sprintf("per-ppv-day: one partition for each of the %d days", n)
			}
		}
	}
	return 0, "per-ppv-day, days unknown"
}

// calibrateCommit fits the group-commit cost from the partitions' writer
// statistics.
func calibrateCommit(p *ModelParams, d *results.DesignResult, measured func(string, float64, string, string), keep func(string)) {
	if d.Server == nil {
		keep(ParamCommitBase)
		keep(ParamCommitPer)
		return
	}
	type point struct{ b, t, w float64 } // mean batch size, mean batch time (ns), batches
	var pts []point
	var batches, attempts, busy float64
	for _, ps := range d.Server.Partitions {
		if ps.Batches <= 0 || ps.BusySeconds <= 0 || ps.MeanBatch <= 0 {
			continue
		}
		n := float64(ps.Batches)
		batches += n
		attempts += ps.MeanBatch * n
		busy += ps.BusySeconds
		pts = append(pts, point{b: ps.MeanBatch, t: ps.BusySeconds * 1e9 / n, w: n})
	}
	if batches == 0 {
		keep(ParamCommitBase)
		keep(ParamCommitPer)
		return
	}
	meanB, meanT := attempts/batches, busy*1e9/batches
	measured(ParamMeanBatch, meanB, "bookings", fmt.Sprintf("partition counters: %.0f attempts in %.0f group commits", attempts, batches))
	// Weighted least squares of t = base + per·b across partitions.
	var sw, sb, st, sbb, sbt float64
	minB, maxB := math.Inf(1), math.Inf(-1)
	for _, q := range pts {
		sw += q.w
		sb += q.w * q.b
		st += q.w * q.t
		sbb += q.w * q.b * q.b
		sbt += q.w * q.b * q.t
		minB, maxB = min(minB, q.b), max(maxB, q.b)
	}
	if len(pts) >= 2 && maxB >= 1.2*minB {
		den := sw*sbb - sb*sb
		if den > 0 {
			per := (sw*sbt - sb*st) / den
			base := (st - per*sb) / sw
			if per > 0 && base > 0 {
				p.CommitBase, p.CommitPerBooking = time.Duration(base), time.Duration(per)
				how := fmt.Sprintf("weighted least squares of mean batch time on mean batch size over %d partitions (batch sizes %.1f to %.1f)", len(pts), minB, maxB)
				measured(ParamCommitBase, ms(p.CommitBase), "ms", how)
				measured(ParamCommitPer, ms(p.CommitPerBooking), "ms", how)
				return
			}
		}
	}
	k := meanT / (float64(p.CommitBase) + meanB*float64(p.CommitPerBooking))
	p.CommitBase = time.Duration(float64(p.CommitBase) * k)
	p.CommitPerBooking = time.Duration(float64(p.CommitPerBooking) * k)
	how := fmt.Sprintf("mean batch time %v at mean batch size %.1f (busy_s / batches), split as the default %v + %v a booking",
		time.Duration(meanT).Round(time.Microsecond), meanB, DefaultModelCommitBase, DefaultModelCommitPerBooking)
	measured(ParamCommitBase, ms(p.CommitBase), "ms", how)
	measured(ParamCommitPer, ms(p.CommitPerBooking), "ms", how)
}

// decodeOrNil decodes an encoded histogram, or returns nil.
func decodeOrNil(s string) *hdrhistogram.Histogram {
	if s == "" {
		return nil
	}
	h, err := results.DecodeHistogram(s)
	if err != nil {
		return nil
	}
	return h
}
