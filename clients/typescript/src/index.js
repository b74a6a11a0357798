// @ts-check
/**
 * The TypeScript/JavaScript client of tanksim's gRPC API (`tanksim.v1`): a thin layer over the
 * messages and service descriptors generated into `./gen` (by `generate.sh`, with
 * protoc-gen-es) and Connect's gRPC transport for Node (HTTP/2).
 *
 * - {@link connect}: the `JobService` and `SimulationService` clients of one gateway, every
 *   call carrying the bearer token; plus `submit`, `get`, `watch`, `results`, `cancel`.
 * - {@link loadSpec}, {@link parseSpec}: a job spec (proto3 JSON or YAML of
 *   `SubmitJobRequest`) as a request message.
 * - {@link metricName}, {@link stateName}: enum values as the short names the CLI prints.
 * - The generated messages, enums and services, re-exported (`JobService`, `JobState`,
 *   `SubmitJobRequestSchema`, ...), with `create` / `fromJson` / `toJson` to build and print
 *   messages, and `Code` / `ConnectError` for failed calls.
 *
 * Plain ESM JavaScript with JSDoc types (`npm run typecheck` checks them), so it runs on
 * Node 20 as it is, without a build step.
 *
 * @module
 */

import { readFile } from "node:fs/promises";

import { fromJson } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import { parse as parseYaml } from "yaml";

import { JobState, Metric } from "./gen/tanksim/v1/job_pb.js";
import { JobService, SubmitJobRequestSchema } from "./gen/tanksim/v1/job_service_pb.js";
import { SimulationService } from "./gen/tanksim/v1/simulation_service_pb.js";

export { create, fromJson, toJson } from "@bufbuild/protobuf";
export { Code, ConnectError } from "@connectrpc/connect";
export * from "./gen/tanksim/v1/config_pb.js";
export * from "./gen/tanksim/v1/job_pb.js";
export * from "./gen/tanksim/v1/job_service_pb.js";
export * from "./gen/tanksim/v1/simulation_service_pb.js";

/**
 * @typedef {import("@connectrpc/connect").Client<typeof JobService>} JobServiceClient
 * @typedef {import("@connectrpc/connect").Client<typeof SimulationService>} SimulationServiceClient
 * @typedef {import("./gen/tanksim/v1/job_pb.js").Job} Job
 * @typedef {import("./gen/tanksim/v1/job_service_pb.js").SubmitJobRequest} SubmitJobRequest
 * @typedef {import("./gen/tanksim/v1/job_service_pb.js").GetJobResultsResponse} GetJobResultsResponse
 */

/**
 * Options of {@link connect}.
 *
 * @typedef {object} ConnectOptions
 * @property {string | null} [token] The bearer token every call carries (an API key
 *   `tsk_...` or a JWT). Default: `$TANKSIM_TOKEN`; none when that is unset or empty, or when
 *   `null` or `""` is given.
 * @property {number} [timeoutMs] Bounds each unary call of the helper methods (default
 *   30000; 0: unbounded). Streams (`watch`) are not bounded.
 */

/**
 * A connection to a tanksim gateway. `jobs` and `simulation` are the generated services'
 * clients (methods `submitJob`, `getJob`, `watchJob`, ... taking request objects, or
 * messages, and call options); the methods here cover the usual flow. A failed call rejects
 * with a `ConnectError`: `code` is `Code.InvalidArgument` for an invalid spec (the message
 * names the field), `Code.Unauthenticated` for a missing or bad token,
 * `Code.PermissionDenied` for a missing scope.
 */
export class TanksimClient {
  /**
   * Use {@link connect}.
   *
   * @param {import("@connectrpc/connect").Transport} transport
   * @param {Http2SessionManager} sessions
   * @param {number} timeoutMs
   */
  constructor(transport, sessions, timeoutMs) {
    /** The generated `tanksim.v1.JobService` client. */
    this.jobs = /** @type {JobServiceClient} */ (createClient(JobService, transport));
    /** The generated `tanksim.v1.SimulationService` client. */
    this.simulation = /** @type {SimulationServiceClient} */ (createClient(SimulationService, transport));
    /** The transport both clients share (for other generated clients on the same connection). */
    this.transport = transport;
    /** @private */
    this.sessions = sessions;
    /** @private */
    this.callOptions = timeoutMs > 0 ? { timeoutMs } : {};
  }

  /**
   * Submits a job; answers at once with the job queued.
   *
   * @param {SubmitJobRequest | Record<string, unknown>} spec A request message, or its
   *   proto3 JSON as an object (see {@link parseSpec}).
   * @returns {Promise<Job>}
   */
  async submit(spec) {
    const request = isMessage(spec) ? spec : parseSpec(spec);
    const response = await this.jobs.submitJob(request, this.callOptions);
    return required(response.job, "SubmitJob");
  }

  /**
   * The job's state, progress and timings.
   *
   * @param {string} jobId
   * @returns {Promise<Job>}
   */
  async get(jobId) {
    const response = await this.jobs.getJob({ id: jobId }, this.callOptions);
    return required(response.job, "GetJob");
  }

  /**
   * Watches a job until it ends: calls `onEvent` with the job at each progress event, and
   * resolves with the job in its final state.
   *
   * @param {string} jobId
   * @param {(job: Job) => void} [onEvent]
   * @param {{ signal?: AbortSignal }} [options] `signal` stops watching (the call rejects).
   * @returns {Promise<Job>}
   */
  async watch(jobId, onEvent, options = {}) {
    /** @type {Job | undefined} */
    let last;
    for await (const event of this.jobs.watchJob({ id: jobId }, { signal: options.signal })) {
      if (event.job) {
        last = event.job;
        onEvent?.(event.job);
      }
    }
    // The stream ends when the job does; an empty stream still leaves its final state to read.
    return last ?? (await this.get(jobId));
  }

  /**
   * Per-metric summaries (and a sweep's grid and best point, a sensitivity job's indices).
   *
   * @param {string} jobId
   * @param {{ histogramBins?: number, maxPoints?: number }} [options] 0 or unset: the
   *   server's default.
   * @returns {Promise<GetJobResultsResponse>}
   */
  async results(jobId, options = {}) {
    const request = { id: jobId, histogramBins: options.histogramBins ?? 0, maxPoints: options.maxPoints ?? 0 };
    return await this.jobs.getJobResults(request, this.callOptions);
  }

  /**
   * Cancels a job; resolves with it (unchanged if it had already ended).
   *
   * @param {string} jobId
   * @returns {Promise<Job>}
   */
  async cancel(jobId) {
    const response = await this.jobs.cancelJob({ id: jobId }, this.callOptions);
    return required(response.job, "CancelJob");
  }

  /** Closes the HTTP/2 connection (calls in flight fail). An idle one does not keep Node running. */
  close() {
    this.sessions.abort();
  }
}

/**
 * Connects to a gateway over gRPC (HTTP/2): `host:port` is plaintext `http://host:port`;
 * an `http://` or `https://` URL is used as it is (TLS for `https`). The connection opens
 * at the first call.
 *
 * @param {string} target `host:port` or a URL.
 * @param {ConnectOptions} [options]
 * @returns {TanksimClient}
 */
export function connect(target, options = {}) {
  const baseUrl = /^https?:\/\//.test(target) ? target : `http://${target}`;
  const token = (options.token === undefined ? process.env.TANKSIM_TOKEN : options.token)?.trim();
  /** @type {import("@connectrpc/connect").Interceptor[]} */
  const interceptors = [];
  if (token) {
    // Metadata rather than TLS-only call credentials: a gateway behind a TLS-terminating
    // ingress is reached in plaintext, and it still requires the token.
    const header = `Bearer ${token}`;
    interceptors.push((next) => async (req) => {
      req.header.set("authorization", header);
      return await next(req);
    });
  }
  const sessions = new Http2SessionManager(baseUrl);
  const transport = createGrpcTransport({ baseUrl, interceptors, sessionManager: sessions });
  return new TanksimClient(transport, sessions, options.timeoutMs ?? 30_000);
}

/**
 * A job spec as a request: its proto3 JSON (field names in lowerCamelCase or as in the proto,
 * enums by name, 64-bit integers as numbers or strings). Unknown fields are errors, so a
 * misspelt field does not silently fall back to its default.
 *
 * @param {unknown} json
 * @returns {SubmitJobRequest}
 */
export function parseSpec(json) {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new Error(`a job spec is a mapping, found ${json === null ? "null" : Array.isArray(json) ? "a list" : typeof json}`);
  }
  return fromJson(SubmitJobRequestSchema, /** @type {import("@bufbuild/protobuf").JsonValue} */ (json));
}

/**
 * Reads a job-spec file: YAML when its name ends in `.yaml` or `.yml`, else JSON.
 *
 * @param {string | URL} path
 * @returns {Promise<SubmitJobRequest>}
 */
export async function loadSpec(path) {
  const text = await readFile(path, "utf8");
  const name = String(path);
  const data = /\.ya?ml$/i.test(name) ? parseYaml(text) : JSON.parse(text);
  try {
    return parseSpec(data);
  } catch (e) {
    throw new Error(`${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/**
 * `Metric.OVERSHOOT_PCT` -> `overshoot_pct` (the CLI's and the exports' names); a value this
 * client does not know (a newer server) as its number.
 *
 * @param {Metric} metric
 * @returns {string}
 */
export function metricName(metric) {
  return Metric[metric]?.toLowerCase() ?? String(metric);
}

/**
 * `JobState.SUCCEEDED` -> `succeeded`; a value this client does not know as its number.
 *
 * @param {JobState} state
 * @returns {string}
 */
export function stateName(state) {
  return JobState[state]?.toLowerCase() ?? String(state);
}

/**
 * Whether `value` is a `SubmitJobRequest` message (messages carry their type's name).
 *
 * @param {unknown} value
 * @returns {value is SubmitJobRequest}
 */
function isMessage(value) {
  return (
    typeof value === "object" &&
    value !== null &&
    "$typeName" in value &&
    value.$typeName === SubmitJobRequestSchema.typeName
  );
}

/**
 * `value`, or an error naming the call that answered without it.
 *
 * @template T
 * @param {T | undefined} value
 * @param {string} call
 * @returns {T}
 */
function required(value, call) {
  if (value === undefined) {
    throw new Error(`${call} answered without a job`);
  }
  return value;
}
