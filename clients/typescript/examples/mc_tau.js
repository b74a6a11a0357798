#!/usr/bin/env node
// @ts-check
/**
 * Monte Carlo over the tank's time constant through the TypeScript client.
 *
 * Submits a job spec (examples/mc-tau.yaml by default), prints its progress while watching
 * it, then prints the per-metric results. Exits 0 only if the job SUCCEEDED; 1 if it ended
 * otherwise; 2 when a call fails (`error: CODE: message` on stderr) or the arguments are bad.
 *
 *     node clients/typescript/examples/mc_tau.js --target localhost:50051 --runs 5000
 *
 * The same as clients/python/examples/mc_tau.py, line for line.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Code, ConnectError, JobState, connect, loadSpec, metricName, stateName } from "../src/index.js";

const DEFAULT_SPEC = fileURLToPath(new URL("../../../examples/mc-tau.yaml", import.meta.url));

const USAGE = `usage: mc_tau.js [spec] [--target HOST:PORT] [--runs N] [--token TOKEN]

Monte Carlo over the tank's time constant through the TypeScript client.

  spec             job spec, YAML or JSON (default: ${DEFAULT_SPEC})
  --target         gateway host:port (default: localhost:50051)
  --runs           override the number of runs
  --token          API key or JWT (default: $TANKSIM_TOKEN; prefer it, a command line is visible)`;

/**
 * @typedef {import("../src/index.js").Job} Job
 * @typedef {import("../src/index.js").TanksimClient} TanksimClient
 * @typedef {import("../src/index.js").GetJobResultsResponse} GetJobResultsResponse
 */

/** @returns {Promise<number>} the exit code */
async function main() {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        target: { type: "string", default: "localhost:50051" },
        runs: { type: "string" },
        token: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return usageError(e instanceof Error ? e.message : String(e));
  }
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.positionals.length > 1) {
    return usageError(`one spec at most, got ${args.positionals.length}`);
  }

  let request;
  try {
    request = await loadSpec(args.positionals[0] ?? DEFAULT_SPEC);
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  if (args.values.runs !== undefined) {
    if (!/^\d+$/.test(args.values.runs)) {
      return usageError(`--runs: not a number of runs: ${args.values.runs}`);
    }
    if (request.job.case !== "monteCarlo" && request.job.case !== "dataset") {
      return usageError(`--runs applies to Monte Carlo and dataset jobs, not to ${request.job.case}`);
    }
    request.job.value.runs = BigInt(args.values.runs);
  }

  const client = connect(args.values.target, { token: args.values.token });
  try {
    let job = await client.submit(request);
    console.log(`submitted job ${job.id} (${job.name}, ${job.progress?.runsTotal ?? 0n} runs)`);
    job = await watch(client, job);
    if (job.state !== JobState.SUCCEEDED) {
      const reason = job.error ? `: ${job.error}` : "";
      console.log(`job ${job.id} ${stateName(job.state)}${reason}`);
      return 1;
    }
    printResults(await client.results(job.id));
    console.log(`job ${job.id} ${stateName(job.state)}`);
    return 0;
  } catch (e) {
    if (e instanceof ConnectError) {
      console.error(`error: ${codeName(e.code)}: ${e.rawMessage}`);
      return 2;
    }
    throw e;
  } finally {
    client.close();
  }
}

/**
 * Prints a line whenever the state or the count of finished runs changes.
 *
 * @param {TanksimClient} client
 * @param {Job} submitted
 * @returns {Promise<Job>} the job in its final state
 */
async function watch(client, submitted) {
  let last = "";
  return await client.watch(submitted.id, (job) => {
    const p = job.progress;
    const seen = `${job.state}/${p?.runsDone ?? 0n}`;
    if (seen !== last) {
      last = seen;
      console.log(
        `${stateName(job.state).padEnd(9)} ${String(p?.runsDone ?? 0n).padStart(10)}/${p?.runsTotal ?? 0n} runs` +
          `  (${p?.chunksDone ?? 0}/${p?.chunksTotal ?? 0} chunks)`,
      );
    }
  });
}

/** @param {GetJobResultsResponse} results */
function printResults(results) {
  const head = ["count", "mean", "p5", "p50", "p95"];
  console.log(`\n${"metric".padEnd(20)} ${head[0].padStart(8)} ${head.slice(1).map((h) => h.padStart(12)).join(" ")}`);
  for (const m of results.metrics) {
    const stats = m.count > 0n ? [m.mean, m.p5, m.p50, m.p95] : [NaN, NaN, NaN, NaN];
    console.log(`${metricName(m.metric).padEnd(20)} ${String(m.count).padStart(8)} ${stats.map(num).join(" ")}`);
  }
  console.log();
}

/**
 * A 12-wide column with 6 significant digits (Python's `%12.6g`); `-` when there is no value.
 *
 * @param {number} v
 * @returns {string}
 */
function num(v) {
  return (Number.isNaN(v) ? "-" : formatG(v, 6)).padStart(12);
}

/**
 * `v` as C's and Python's `%.{digits}g`: fixed or exponent notation by its magnitude,
 * trailing zeros removed.
 *
 * @param {number} v
 * @param {number} digits
 * @returns {string}
 */
function formatG(v, digits) {
  if (!Number.isFinite(v)) {
    return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  }
  if (v === 0) {
    return Object.is(v, -0) ? "-0" : "0";
  }
  // The exponent after rounding to `digits` significant digits (9.999995 is 1e+01).
  const [mantissa, exp] = v.toExponential(digits - 1).split("e");
  const e = Number(exp);
  if (e < -4 || e >= digits) {
    const sign = e < 0 ? "-" : "+";
    return `${stripZeros(mantissa)}e${sign}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  return stripZeros(v.toFixed(digits - 1 - e));
}

/**
 * `1.50000` -> `1.5`, `2.000` -> `2`; integers unchanged.
 *
 * @param {string} s
 * @returns {string}
 */
function stripZeros(s) {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/**
 * `Code.Unauthenticated` -> `UNAUTHENTICATED` (gRPC's name, as the other clients print it).
 *
 * @param {Code} code
 * @returns {string}
 */
function codeName(code) {
  return (Code[code] ?? String(code)).replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * @param {string} message
 * @returns {number}
 */
function usageError(message) {
  console.error(`${USAGE}\n\nmc_tau.js: error: ${message}`);
  return 2;
}

process.exitCode = await main();
