import type { Logger } from 'pino';
import { isRecserveError, RecserveError } from '../errors.js';
import type { GuardedSource } from '../fallback/guarded.js';
import type { WritableSource } from '../fallback/source.js';
import { assign, type Assignment, type Experiment } from '../variants/experiments.js';
import type { ExposureLog } from './exposure-log.js';
import { firstNotExcluded, type ItemInteraction, type ItemRecommender, type ScoredItemId, type VariantAnswer } from './kinds/types.js';
import { LatencyEstimate } from './latency-estimate.js';

export const FALLBACK_REASONS = ['unknown_user', 'model_unavailable', 'deadline', 'error'] as const;
export type FallbackReason = (typeof FALLBACK_REASONS)[number];
export const SOURCES = ['model', 'foldin', 'static', 'redis', 'cassandra'] as const;
export type Source = (typeof SOURCES)[number];

export interface RecommendRequest {
  /** Null for an anonymous request (POST /recommend without a user id). */
  userId: string | null;
  n: number;
  exclude: readonly string[];
  /** What the user just did: folded in when the model does not know them and the variant allows it. */
  interactions?: readonly ItemInteraction[];
  /** A configured experiment; the default experiment when absent. */
  experiment?: string;
  /** A variant to force (QA); honoured only when the config allows it. */
  forcedVariant?: string;
  /** performance.now() when the request arrived; the deadline counts from here. */
  receivedAt?: number;
  /** A batch line: no per-request deadline (the batch queues its users behind each other), not timed, and scored after live requests. */
  batch?: boolean;
}

export interface Recommendation {
  userId: string | null;
  items: ScoredItemId[];
  model: { name: string; version: string } | null;
  source: Source;
  fallbackReason: FallbackReason | null;
  experiment: string;
  variant: string;
  bucket: number | null;
}

/** A batch line's request: always for a named user. */
type BatchLineRequest = RecommendRequest & { userId: string };

/** What each line of a batch becomes, made as soon as its user is answered or has failed. */
export interface LineFormat<T> {
  /** A line of an answer; `itemsJson`, when the recommender wrote it, is what JSON.stringify writes for its items. */
  answered(recommendation: Recommendation, itemsJson?: string): T;
  failed(userId: string, err: unknown): T;
}

/** What serving one variant takes: its recommender, its fallback chain and where to write behind. */
export interface VariantPlan {
  recommender: string;
  /** Fold in unknown users from their interactions before the fallback chain. */
  foldIn: boolean;
  fallback: readonly GuardedSource[];
  writeBehind?: { to: WritableSource; ttlSeconds: number };
}

export interface ServiceOptions {
  experiments: ReadonlyMap<string, Experiment>;
  defaultExperiment: string;
  recommenders: ReadonlyMap<string, ItemRecommender>;
  /** By experiment, then variant. */
  plans: ReadonlyMap<string, ReadonlyMap<string, VariantPlan>>;
  allowForcedVariant: boolean;
  deadlineMs: number;
  logger: Logger;
  exposureLog?: ExposureLog;
  onFallback?: (variant: string, source: Source, reason: FallbackReason) => void;
  /** Told of every answer, with the seconds since the request arrived; null for a batch line, which is not timed (its batch is). */
  onServed?: (experiment: string, variant: string, source: Source, seconds: number | null) => void;
}

type Served = VariantAnswer & { source: Source; fallbackReason: FallbackReason | null };

interface Routed {
  experiment: string;
  assignment: Assignment;
  plan: VariantPlan;
}

/** What `run` returns, or what it threw. */
function attempt<T>(run: () => T): T | Error {
  try {
    return run();
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function reasonOf(err: unknown): FallbackReason {
  if (isRecserveError(err, 'unknown_user')) return 'unknown_user';
  if (isRecserveError(err, 'model_unavailable')) return 'model_unavailable';
  return 'error';
}

/**
 * Request -> experiment -> variant -> recommender, and when the recommender cannot answer (unknown
 * user, model not loaded, scoring failed, or the deadline would be missed) the variant's fallback
 * chain in order. Every answer says which variant and source served it, and is logged as an exposure.
 */
export class RecommendationService {
  private readonly latency = new Map<string, LatencyEstimate>();

  constructor(private readonly options: ServiceOptions) {}

  /** The experiment a request names, or the default one; unknown_experiment when it is not configured. */
  experimentOf(requested: string | undefined): Experiment {
    const name = requested ?? this.options.defaultExperiment;
    const experiment = this.options.experiments.get(name);
    if (!experiment) throw new RecserveError('unknown_experiment', `experiment ${name} is not configured`);
    return experiment;
  }

  async recommend(request: RecommendRequest): Promise<Recommendation> {
    const receivedAt = request.receivedAt ?? performance.now();
    const routed = this.route(request);
    return this.finish(routed, request, await this.serve(routed.plan, routed.assignment.variant, request, receivedAt), receivedAt);
  }

  /**
   * The lines of a batch: for each user, what recommend gives a batch line (no deadline, scored after live
   * requests), in order. The users whose recommender ranks many at once (ALS) go to it together, which
   * looks at the model and finds the excluded rows once, and spares each user a chain of calls: batches of
   * 1,000 ran at 27,141-29,514 users/s against 25,862-27,781 one user at a time, the event loop spending
   * 16.6-18.2 instead of 18.8-20.4 us a user (six runs each, alternating, 100,000 x 64, AMX).
   */
  recommendBatch<T>(userIds: readonly string[], { n, exclude, experiment }: { n: number; exclude: readonly string[]; experiment?: string }, format: LineFormat<T>): Promise<T>[] {
    const receivedAt = performance.now();
    // Batch lines, never folded in (no interactions) nor skipped for a deadline (none): each goes to its
    // variant's recommender first, so it can be asked here for all of them.
    const requests: BatchLineRequest[] = userIds.map((userId) => ({ userId, n, exclude, experiment, batch: true }));
    const routes = requests.map((request) => attempt(() => this.route(request)));
    const asked: (Promise<VariantAnswer> | undefined)[] = new Array(requests.length);
    const together = new Map<ItemRecommender, number[]>();
    routes.forEach((routed, i) => {
      if (routed instanceof Error) return;
      const recommender = this.options.recommenders.get(routed.plan.recommender)!;
      if (!recommender.recommendMany) return;
      let users = together.get(recommender);
      if (!users) together.set(recommender, (users = []));
      users.push(i);
    });
    for (const [recommender, users] of together) recommender.recommendMany!(users.map((i) => requests[i]!)).forEach((answer, j) => (asked[users[j]!] = answer));
    return requests.map((request, i) => {
      const routed = routes[i]!;
      if (routed instanceof Error) return Promise.resolve(format.failed(request.userId, routed));
      if (asked[i]) return this.serveLine(routed, request, receivedAt, asked[i], format);
      return this.formatLine(this.serve(routed.plan, routed.assignment.variant, request, receivedAt), routed, request, receivedAt, format);
    });
  }

  /** A request's experiment, its assignment in it, and the variant's plan. */
  private route(request: RecommendRequest): Routed {
    const experiment = this.experimentOf(request.experiment);
    const assignment = assign(experiment, request.userId, this.options.allowForcedVariant ? request.forcedVariant : undefined);
    return { experiment: experiment.name, assignment, plan: this.options.plans.get(experiment.name)!.get(assignment.variant)! };
  }

  /** The answer to a request once served: logged as an exposure, counted, with its assignment. */
  private finish({ experiment, assignment }: Routed, request: RecommendRequest, served: Served, receivedAt: number): Recommendation {
    this.options.exposureLog?.write({ experiment, variant: assignment.variant, bucket: assignment.bucket, userId: request.userId, source: served.source, modelVersion: served.model?.version ?? null });
    this.options.onServed?.(experiment, assignment.variant, served.source, request.batch ? null : (performance.now() - receivedAt) / 1000);
    // Named fields, not spreads: each answer's object is built once (a batch builds a thousand).
    return {
      userId: request.userId,
      items: served.items,
      model: served.model,
      source: served.source,
      fallbackReason: served.fallbackReason,
      experiment,
      variant: assignment.variant,
      bucket: assignment.bucket,
    };
  }

  /** A request's recommender answer, or the fallback chain's when the recommender cannot answer. */
  private async serve(plan: VariantPlan, variant: string, request: RecommendRequest, receivedAt: number): Promise<Served> {
    const recommender = this.options.recommenders.get(plan.recommender)!;
    const remaining = this.remaining(request, receivedAt);
    let estimate = this.latency.get(plan.recommender);
    if (!estimate) this.latency.set(plan.recommender, (estimate = new LatencyEstimate()));

    if (plan.fallback.length > 0 && !estimate.fits(remaining())) {
      return this.fallBack(plan, variant, request, remaining, 'deadline', new RecserveError('deadline_exceeded', `variant ${variant} could not answer within ${this.options.deadlineMs} ms`));
    }
    if (plan.foldIn && request.interactions?.length && recommender.foldIn && recommender.isUnknownUser?.(request.userId)) {
      // A user the loaded model does not know: straight to fold-in, with no failed lookup first.
      try {
        const { items, model } = await recommender.foldIn(request);
        return { items, model, source: 'foldin', fallbackReason: null };
      } catch (err) {
        // No item it knows among the interactions, or no training parameters: the fallback chain's turn.
        if (!isRecserveError(err, 'unknown_user')) throw err;
        return this.fallBack(plan, variant, request, remaining, 'unknown_user', err);
      }
    }
    const started = performance.now();
    let answer: VariantAnswer;
    try {
      answer = await recommender.recommend(request);
    } catch (err) {
      return this.afterFailure(plan, variant, request, remaining, err);
    }
    if (!request.batch) estimate.observe(performance.now() - started);
    return this.answered(plan, variant, request, recommender, answer);
  }

  /**
   * A batch line, its recommender's answer already asked for (recommendBatch): no deadline, so straight to
   * the answer, and to the fallback chain only when it fails. Not an async function, which a batch would
   * start a thousand of (the event loop spent about 0.5 us a batch user less without them). Served,
   * finished and formatted in one step, two promises less a line (batches of 1,000, alternating: the event
   * loop 19.2-19.6 against 20.1-21.0 us a user with the first gone, four runs each; 18.2 against 19.0 with
   * the second, medians of seven).
   */
  private serveLine<T>(routed: Routed, request: BatchLineRequest, receivedAt: number, asked: Promise<VariantAnswer>, format: LineFormat<T>): Promise<T> {
    const { plan, assignment } = routed;
    const recommender = this.options.recommenders.get(plan.recommender)!;
    return asked.then(
      (answer) => this.answeredLine(routed, request, receivedAt, format, () => this.answered(plan, assignment.variant, request, recommender, answer)),
      (err: unknown) => this.formatLine(this.afterFailure(plan, assignment.variant, request, this.remaining(request, receivedAt), err), routed, request, receivedAt, format),
    );
  }

  /** A batch line once its serving settles: the finished answer, or the failure, in the batch's format. */
  private formatLine<T>(serving: Promise<Served>, routed: Routed, request: BatchLineRequest, receivedAt: number, format: LineFormat<T>): Promise<T> {
    return serving.then(
      (served) => this.answeredLine(routed, request, receivedAt, format, () => served),
      (err: unknown) => format.failed(request.userId, err),
    );
  }

  /**
   * A served batch line, finished and formatted. What throws on the way (a hook, the format) becomes the
   * user's error line: a rejected line would end the batch's stream, and every line after it with it.
   */
  private answeredLine<T>(routed: Routed, request: BatchLineRequest, receivedAt: number, format: LineFormat<T>, served: () => Served): T {
    try {
      const answer = served();
      return format.answered(this.finish(routed, request, answer, receivedAt), answer.itemsJson);
    } catch (err) {
      return format.failed(request.userId, err);
    }
  }

  /** The milliseconds a request has left before its deadline; a batch line has no deadline. */
  private remaining(request: RecommendRequest, receivedAt: number): () => number {
    return () => (request.batch ? Infinity : this.options.deadlineMs - (performance.now() - receivedAt));
  }

  /** The recommender's own answer, written behind for later outages. */
  private answered(plan: VariantPlan, variant: string, request: RecommendRequest, recommender: ItemRecommender, answer: VariantAnswer): Served {
    if (plan.writeBehind && request.exclude.length === 0 && request.userId !== null) this.writeBehind(plan.writeBehind, variant, request.userId, answer.items);
    return { items: answer.items, model: answer.model, itemsJson: answer.itemsJson, source: recommender.kind === 'static' ? 'static' : 'model', fallbackReason: null };
  }

  /** The recommender failed: the fallback chain, with the reason its failure gives. */
  private afterFailure(plan: VariantPlan, variant: string, request: RecommendRequest, remaining: () => number, err: unknown): Promise<Served> {
    const reason = reasonOf(err);
    if (reason === 'error') this.options.logger.error({ variant, err }, 'recommender failed; trying fallbacks');
    return this.fallBack(plan, variant, request, remaining, reason, err);
  }

  /** The first fallback source that has the user's list; the recommender's failure when none has. */
  private async fallBack(plan: VariantPlan, variant: string, request: RecommendRequest, remaining: () => number, reason: FallbackReason, failure: unknown): Promise<Served> {
    for (const source of plan.fallback) {
      // An anonymous request has no key in a store; a static list answers everyone.
      if (request.userId === null && !source.source.inMemory) continue;
      const { items } = await source.lookup(variant, request.userId ?? '', request.n + request.exclude.length, remaining());
      if (!items) continue;
      this.options.onFallback?.(variant, source.source.kind, reason);
      return { items: firstNotExcluded(items, request.exclude, request.n), model: null, source: source.source.kind, fallbackReason: reason };
    }
    throw failure;
  }

  /** Stores the model's answer for later outages; never delays or fails the response. */
  private writeBehind(target: { to: WritableSource; ttlSeconds: number }, variant: string, userId: string, items: ScoredItemId[]): void {
    target.to.write([{ variant, userId, items }], target.ttlSeconds).catch((err: Error) => this.options.logger.debug({ source: target.to.name, err: err.message }, 'write-behind failed'));
  }
}
