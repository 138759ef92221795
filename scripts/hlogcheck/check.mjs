// check.mjs RESULT.json HLOGDIR
//
// Reads every interval log slotrush wrote for a result with hdr-histogram-js,
// an HdrHistogram implementation independent of the Go one slotrush uses,
// adds the intervals of each log and checks the sum against result.json:
// the same count, one interval per second the result lists, and the same
// p50, p90, p99, p99.9 and max within the histograms' three significant
// digits. Prints one line per log; exits 1 on any mismatch, 2 on bad input.
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import * as hdr from "hdr-histogram-js";

const [resultPath, dir] = process.argv.slice(2);
if (!resultPath || !dir) {
  console.error("usage: node check.mjs RESULT.json HLOGDIR");
  process.exit(2);
}
const result = JSON.parse(readFileSync(resultPath, "utf8"));
const fileSafe = (s) => s.replace(/[^A-Za-z0-9+\-_]/g, "_") || "_";
// Three significant digits: neighbouring values within 1/1000 may share a
// bucket, and the logs hold nanoseconds where the result holds microseconds.
const close = (a, b) => Math.abs(a - b) <= Math.max(Math.abs(a), Math.abs(b)) * 2e-3 + 1e-3;

let failures = 0;
let checked = 0;
for (const d of result.designs) {
  for (const [op, intervals] of Object.entries(d.intervals ?? {})) {
    const path = join(dir, `${fileSafe(d.design)}.${fileSafe(op)}.hlog`);
    if (!existsSync(path)) {
      console.log(`FAIL ${path}: missing`);
      failures++;
      continue;
    }
    const reader = new hdr.HistogramLogReader(readFileSync(path, "utf8"));
    const sum = hdr.build({ numberOfSignificantValueDigits: 3, highestTrackableValue: 3600e9 * 2 });
    let lines = 0;
    for (let h; (h = reader.nextIntervalHistogram()) !== null; lines++) {
      sum.add(h);
    }
    const want = d.latency_ms[op];
    const got = {
      count: sum.totalCount,
      p50: sum.getValueAtPercentile(50) / 1e6,
      p90: sum.getValueAtPercentile(90) / 1e6,
      p99: sum.getValueAtPercentile(99) / 1e6,
      p999: sum.getValueAtPercentile(99.9) / 1e6,
      max: sum.maxValue / 1e6,
    };
    const bad = [];
    if (lines !== intervals.length) bad.push(`${lines} intervals, result lists ${intervals.length}`);
    if (got.count !== want.count) bad.push(`count ${got.count} != ${want.count}`);
    for (const k of ["p50", "p90", "p99", "p999", "max"]) {
      if (!close(got[k], want[k])) bad.push(`${k} ${got[k]} ms != ${want[k]} ms`);
    }
    checked++;
    const fmt = (v) => v.toFixed(3);
    const line = `${d.design} ${op}: ${lines} intervals, count ${got.count}, p50 ${fmt(got.p50)} p90 ${fmt(got.p90)} p99 ${fmt(got.p99)} p99.9 ${fmt(got.p999)} max ${fmt(got.max)} ms`;
    if (bad.length) {
      failures++;
      console.log(`FAIL ${line}: ${bad.join("; ")}`);
    } else {
      console.log(`ok   ${line}`);
    }
  }
}
if (checked === 0) {
  console.log("FAIL the result has no per-second intervals");
  process.exit(1);
}
process.exit(failures ? 1 : 0);
