// Runs one claimed job end to end: lease, prompt, Generate on a worker (with retries
// and mid-stream migration), detokenize, coalesced writes, terminal event, ack.
import type { Logger } from "pino";
import { status as Status } from "@grpc/grpc-js";
import type { ErrorInfo, Job, ResponseEvent, Usage } from "../../contract/queue/messages.js";
import type { ChoiceState } from "./choice.js";
import type { Constraint } from "./constraints.js";
import { errorInfo, rpcErrorInfo } from "./error-info.js";
import type { ModelProfile } from "./model-profile.js";
import { prepareRun, type PreparedRun, type PromptRenderer } from "./prepare.js";
import type { Result } from "../../contract/result.js";
import type { Prompt } from "./prompt.js";
import type { TokenLogprobs } from "./logprobs.js";
import { buildGenerateRequest, planCalls, type CallPlan } from "./generate-request.js";
import type { ClaimedJob, QueueClient } from "../queue/client.js";
import { newStreamCursor, type StreamCursor } from "../../contract/queue/scripts/append.js";
import { readPriorOutput, replayChoice } from "./resume.js";
import type { ModelTokenizer } from "../tokenizer/model-tokenizer.js";
import type { CallOutcome, WorkerRegistry } from "../workers/registry.js";
import type { RouteRequest } from "../routing/router.js";
import { sessionKeyOf } from "../routing/session-key.js";
import { isRetryable, localRpcError, type RpcError } from "../workers/rpc-error.js";
import { CoalescingWriter } from "./writer.js";
import { usageOf } from "./usage.js";
import { noRunTrace, type RunObserver, type RunTrace } from "../telemetry/run-observer.js";

export interface RequestDeps {
  queue: QueueClient;
  registry: WorkerRegistry;
  tokenizer(model: string): ModelTokenizer | undefined;
  /** renders + encodes large prompts off the event loop (tokenization threads); unset = inline */
  renderer?(model: string): PromptRenderer | undefined;
  /** what the workers report about the model (tool-call format, context length) */
  profile(model: string): ModelProfile | undefined;
  maxAttempts: number;
  minWriteIntervalMs: number;
  log: Logger;
  /** metrics / status page / access log (pool/telemetry.ts); default none */
  observer?: RunObserver;
}

/** Why a run stopped before finishing normally. */
export type StopReason = "cancelled" | "lost" | "killed";

const NO_WORKER_WAIT_MS = 5_000;

function logprobsOf(lp: { tokenLogprobs: number[]; topLogprobs: { values: number[]; tokenIds: number[] }[] } | undefined): TokenLogprobs | undefined {
  return lp ? { tokenLogprobs: lp.tokenLogprobs, top: lp.topLogprobs } : undefined;
}

export class RequestRun {
  readonly rid: string;
  readonly token: string;
  readonly model: string;
  private readonly abort = new AbortController();
  private stopReason: StopReason | null = null;
  private readonly writer: CoalescingWriter;
  private readonly log: Logger;
  private readonly trace: RunTrace;
  private cachedTokens = 0;
  /** what the run has consumed so far, for settlement on any ending */
  private promptTokens = 0;
  private choices: ChoiceState[] = [];
  /** The grammar constraint every call of this request carries. */
  private constraint: Constraint | undefined;
  /** Conversation key for session affinity. */
  private sessionKey: string | undefined;

  constructor(
    private readonly claimed: ClaimedJob,
    private readonly deps: RequestDeps,
  ) {
    this.rid = claimed.rid;
    this.token = claimed.token;
    this.model = claimed.model;
    // Same field names as the edge's log lines: requestId (= rid = gRPC request_id), tenant, model, worker.
    this.log = deps.log.child({ requestId: claimed.rid, tenant: claimed.job?.tenant_id, model: claimed.model, attempt: claimed.attempt });
    this.trace = deps.observer?.begin(claimed) ?? noRunTrace;
    this.writer = new CoalescingWriter(
      (events, done) => {
        deps.queue.appendThen(this.rid, this.token, events, (r) => {
          if (r.ok && r.value === "ok") this.trace.written(events);
          done(r);
        }, this.cursor);
      },
      (why) => {
        this.log.warn({ why, failure: this.writer.failure }, "lost the response stream; abandoning the request");
        this.stop("lost");
      },
      deps.minWriteIntervalMs,
    );
  }

  /** The response stream as this run's writes left it: every entry this attempt adds goes through its writer. */
  private readonly cursor: StreamCursor = newStreamCursor();

  /** performance.now() when a write of ours last refreshed the write lease (the lease keeper skips a fresh one). */
  get leaseRefreshedAt(): number {
    return this.cursor.leaseRefreshedAt;
  }

  /** Stream entries this run wrote. */
  get entriesWritten(): number {
    return this.writer.entries;
  }

  /** Stops the run: cancels the gRPC call(s) (+ Abort). "cancelled" still answers the client; the others write nothing more. */
  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    if (reason !== "cancelled") this.writer.close();
    this.abort.abort();
  }

  async run(): Promise<void> {
    const { claimed, deps } = this;
    const beginning = deps.queue.begin(this.rid, this.token, claimed.attempt > 1);
    // The prompt is prepared while begin's round trip is out (it needs nothing begin
    // reads): a small prompt renders inline in the meantime, a large one on a thread.
    const job = claimed.status === "ok" ? claimed.job : undefined;
    const tok = job && deps.tokenizer(this.model);
    const preparation = job && tok ? this.prepare(job, tok) : undefined;
    // not awaited when begin fails: its rejection (a bug) must not go unhandled then
    preparation?.catch(() => {});
    const begin = await beginning;
    if (!begin.ok) {
      // Redis is failing: leave the job leased; if we cannot extend it either, it is reaped.
      this.log.error({ error: begin.error }, "cannot start request");
      return;
    }
    if (claimed.status === "expired") return this.fail(errorInfo(503, "queue_timeout", "the request waited in the queue past its deadline"));
    if (!job) return this.fail(errorInfo(500, "invalid_job", "the queued request could not be decoded", "server_error"));
    if (begin.value.cancelled) this.stop("cancelled");
    if (this.stopReason) return this.finishStopped();

    if (!preparation) return this.fail(errorInfo(503, "model_unavailable", `no tokenizer loaded for model ${this.model}`));
    const prepared = await preparation;
    if (!prepared.ok) return this.fail(prepared.error);
    if (this.stopReason) return this.finishStopped();
    const { prompt, constraint, choices } = prepared.value;
    this.constraint = constraint;
    this.promptTokens = prompt.ids.length;
    this.sessionKey = sessionKeyOf(job, prompt.ids);
    this.choices = choices;
    if (claimed.attempt > 1) {
      const prior = readPriorOutput(begin.value.out);
      if (prior.terminal) {
        // The previous owner answered but did not ack (and maybe did not settle).
        if (prior.terminal.type === "done") await this.settle(prior.terminal.usage);
        return this.ack();
      }
      for (const [index, p] of prior.choices) {
        const c = choices[index];
        if (c && !replayChoice(c, p)) this.log.warn({ index }, "replayed text differs from the recorded text");
      }
      if (prior.choices.size > 0) this.log.info({ resumedTokens: choices.map((c) => c.tokenIds.length) }, "resuming request");
    }

    const failure = await this.generate(job, prompt, choices);
    if (this.stopReason) return this.finishStopped();
    if (failure) return this.fail(failure);

    const usage = this.usageSoFar();
    if (await this.writer.finish({ type: "done", usage })) {
      await this.settle(usage);
      await this.ack();
    }
  }

  /** prepareRun, timed for the trace. */
  private async prepare(job: Job, tok: ModelTokenizer): Promise<Result<PreparedRun, ErrorInfo>> {
    const preparing = performance.now();
    const prepared = await prepareRun(this.rid, job, tok, this.deps.profile(this.model), this.deps.renderer?.(this.model));
    if (prepared.ok) this.trace.prepared(prepared.value.prompt.timing, performance.now() - preparing);
    return prepared;
  }

  /**
   * Drives Generate calls until every choice is finished. Returns an error to report,
   * or undefined (finished, or stopped: see stopReason).
   */
  private async generate(job: Job, prompt: Prompt, choices: ChoiceState[]): Promise<ErrorInfo | undefined> {
    const tried = new Set<string>();
    const limit = job.sampling.max_tokens;
    let lastError: RpcError | undefined;
    for (let attempt = 0; ; attempt++) {
      if (this.stopReason) return undefined;
      // A resumed choice may already have used its whole budget.
      for (const c of choices) if (!c.finish && limit !== null && c.generated >= limit) this.writer.push(c.complete("length"));
      const open = choices.filter((c) => !c.finish);
      if (open.length === 0) return undefined;
      if (attempt >= this.deps.maxAttempts) return rpcErrorInfo(lastError ?? localRpcError(Status.UNAVAILABLE, "no attempts left"));

      // A grammar restarts at a call's first output token: a constrained answer cut mid-way
      // cannot be continued on another worker without breaking its structure. Say so
      // (retryable) instead of sending text the constraint would not have allowed.
      if (this.constraint && open.some((c) => c.generated > 0)) {
        return errorInfo(503, "worker_unavailable", "The worker serving this constrained answer failed mid-way. Please retry.");
      }
      const plans = planCalls(this.rid, prompt, choices, open, limit, this.constraint);
      const results = await Promise.all(plans.map((p) => this.call(job, p.plan, p.choices, tried)));
      const errors = results.filter((e): e is RpcError => e !== undefined);
      if (errors.length === 0) continue;
      const fatal = errors.find((e) => !isRetryable(e.code));
      if (fatal) return rpcErrorInfo(fatal);
      lastError = errors[0];
      this.log.warn({ error: lastError.message, code: lastError.codeName }, "generate failed; retrying on another worker");
    }
  }

  /** One Generate call feeding `choices` (call index i -> choices[i]). Returns the call's error, if any. */
  private async call(job: Job, plan: CallPlan, choices: ChoiceState[], tried: Set<string>): Promise<RpcError | undefined> {
    const { registry } = this.deps;
    const route: RouteRequest = { requestId: this.rid, model: this.model, inputIds: plan.inputIds, sessionKey: this.sessionKey };
    let worker = registry.pick(route, tried);
    if (!worker && (await registry.waitReady(this.model, NO_WORKER_WAIT_MS))) {
      worker = registry.pick(route, tried);
    }
    if (!worker) return localRpcError(Status.UNAVAILABLE, `no ready worker for model ${this.model}`);
    if (this.stopReason) return undefined;
    tried.add(worker.address);
    this.trace.worker(worker.address);
    this.log.debug({ worker: worker.address, n: plan.n, inputTokens: plan.inputIds.length }, "generate");
    // The registry sees every call: routing load, circuit breaker, hung-worker watchdog
    // (which may abort track.abort to move the call elsewhere).
    const track = registry.beginCall(worker, route, this.abort.signal);
    let outcome: CallOutcome = "neutral";
    const base = choices.map((c) => c.generated);
    const baseIds = choices.map((c) => c.tokenIds.length);
    // A frame the run cannot use ends the call with an error of ours (the worker's call is stopped).
    let local: RpcError | undefined;
    const refuse = (e: RpcError) => {
      local = e;
      return "stop" as const;
    };
    /** Every frame: counted for the registry; its choice (undefined: an index the call did not ask for). */
    const choiceOf = (f: { index: number; cachedTokens: number }) => {
      registry.frame(track);
      const c = choices[f.index];
      if (c && f.cachedTokens > this.cachedTokens) this.cachedTokens = f.cachedTokens;
      return c;
    };
    const badIndex = (index: number) => refuse(localRpcError(Status.INTERNAL, `worker sent choice index ${index} for n=${plan.n}`));
    try {
      const remote = await worker.client.generate(
        buildGenerateRequest(job, plan),
        {
          chunk: (chunk) => {
            const c = choiceOf(chunk);
            if (!c) return badIndex(chunk.index);
            this.trace.tokens(worker.address, chunk.tokenIds.length);
            this.writer.push(c.accept(chunk.tokenIds, logprobsOf(chunk.outputLogprobs)));
            // A gateway stop match the worker has not seen yet: stop the call (sends Abort).
            if (choices.every((x) => x.finish) && choices.some((x) => x.stoppedLocally)) return "stop";
          },
          complete: (done) => {
            const c = choiceOf(done);
            if (!c) return badIndex(done.index);
            // Streaming complete.output_ids repeats the last chunk's ids (real servicer) or
            // holds them all (smg mock): never use them for text, only counts and reason.
            if (done.finishReason === "abort") return refuse(localRpcError(Status.INTERNAL, "the worker aborted the request"));
            const reason = done.finishReason === "length" ? "length" : "stop";
            const matched = done.matchedStop.case === "matchedStopStr" ? done.matchedStop.value : undefined;
            this.writer.push(c.complete(reason, matched));
            c.generated = Math.max(c.generated, base[done.index] + done.completionTokens);
          },
        },
        track.abort.signal,
      );
      if (remote) {
        outcome = isRetryable(remote.code) ? "failure" : "neutral";
        this.trace.workerError(worker.address, remote.codeName, remote.message);
        if (remote.code === Status.UNAVAILABLE) registry.markFailed(worker);
        return remote;
      }
      if (local) return local;
      if (this.stopReason) return undefined;
      if (track.workerFailure) {
        // The registry cancelled the call (worker hung or removed): migrate it.
        outcome = "failure";
        return localRpcError(Status.UNAVAILABLE, track.workerFailure);
      }
      const open = choices.filter((c) => !c.finish);
      if (open.length > 0) {
        outcome = "failure";
        return localRpcError(Status.INTERNAL, "the Generate stream ended before every choice completed");
      }
      outcome = "ok";
      return undefined;
    } finally {
      // What the worker now caches: the prompt and choice 0's new tokens (approximate KV index).
      const cached = outcome === "ok" ? plan.inputIds.concat(choices[0].tokenIds.slice(baseIds[0])) : undefined;
      registry.endCall(track, outcome, route, cached);
    }
  }

  private async finishStopped(): Promise<void> {
    if (this.stopReason !== "cancelled") return; // lost/killed: someone else (or nobody) answers
    const ok = await this.writer.finish({ type: "error", error: errorInfo(499, "cancelled", "the request was cancelled", "cancelled") });
    if (ok) {
      await this.settle(this.usageSoFar()); // a cancelled request pays exactly for the tokens it generated
      await this.ack();
    }
  }

  private async fail(e: ErrorInfo): Promise<void> {
    this.log.info({ status: e.status, code: e.code, message: e.message }, "request failed");
    const ev: ResponseEvent = { type: "error", error: e };
    if (await this.writer.finish(ev)) {
      await this.settle(this.usageSoFar());
      await this.ack();
    }
  }

  private usageSoFar(): Usage {
    return usageOf(this.promptTokens, this.cachedTokens, this.choices, this.claimed.job?.thinking === true);
  }

  /** Settles the quota reservation (before ack: if we die in between, the next owner settles from the terminal event). */
  private async settle(usage: Usage): Promise<void> {
    const job = this.claimed.job;
    if (!job) return;
    const r = await this.deps.queue.settle(job, usage);
    if (!r.ok) this.log.error({ error: r.error }, "settle failed; the reservation lapses after its lease");
  }

  private async ack(): Promise<void> {
    const r = await this.deps.queue.ack(this.model, this.rid, this.token);
    if (!r.ok) this.log.error({ error: r.error }, "ack failed; the reaper will re-queue and the next owner will see the terminal event");
    else if (!r.value) this.log.warn("ack refused: another pool owns the request now");
  }
}
