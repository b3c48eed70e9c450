import { BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, TaskCancelledError, timeout, TimeoutStrategy, type CircuitBreakerPolicy, type TimeoutPolicy } from 'cockatiel';
import type { Logger } from 'pino';
import type { ScoredItemId } from '../shared.js';
import type { FallbackSource } from './source.js';

export type LookupOutcome = 'hit' | 'miss' | 'error' | 'timeout' | 'open' | 'no_time';

export interface GuardOptions {
  timeoutMs: number;
  failures: number;
  halfOpenAfterMs: number;
  logger: Logger;
  onOutcome?: (source: FallbackSource, outcome: LookupOutcome) => void;
}

class LookupTimeout extends Error {
  override name = 'LookupTimeout';
  /** Whether the request's remaining budget, shorter than the source's own timeout, ran out: not the source's fault. */
  constructor(
    message: string,
    readonly budgetCut: boolean,
  ) {
    super(message);
  }
}

/** Gives up on the store when `deadline` runs out, without waiting for its answer. */
async function within<T>(deadline: TimeoutPolicy, ms: number, budgetCut: boolean, lookup: () => Promise<T>): Promise<T> {
  try {
    return await deadline.execute(lookup);
  } catch (err) {
    throw err instanceof TaskCancelledError ? new LookupTimeout(`no answer in ${ms.toFixed(1)} ms`, budgetCut) : err;
  }
}

/** The breaker counts the store's own failures only: a lookup cut short by the request's deadline says nothing of the store. */
const storeFailure = handleWhen((err) => !(err instanceof LookupTimeout && err.budgetCut));

const STATE_NAMES: Record<CircuitState, string> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * A fallback source behind a timeout and a circuit breaker (cockatiel): a source that keeps failing
 * or timing out is skipped without waiting until, after `halfOpenAfterMs`, one probe succeeds. A
 * lookup cut short by the request's own deadline does not count, and a corrupt entry (a bad payload,
 * a key of the wrong type) is a miss for that user, not a failure of the store.
 */
export class GuardedSource {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly ownTimeout: TimeoutPolicy;

  constructor(
    readonly source: FallbackSource,
    private readonly options: GuardOptions,
  ) {
    this.ownTimeout = timeout(options.timeoutMs, TimeoutStrategy.Aggressive);
    this.breaker = circuitBreaker(storeFailure, { halfOpenAfter: options.halfOpenAfterMs, breaker: new ConsecutiveBreaker(options.failures) });
    this.breaker.onStateChange((state) => options.logger.warn({ source: source.name, breaker: STATE_NAMES[state] }, 'fallback source circuit changed'));
  }

  get breakerState(): string {
    return STATE_NAMES[this.breaker.state];
  }

  /** The cached list, or null with the reason; never throws. `budgetMs` caps the source's own timeout. */
  async lookup(variant: string, userId: string, n: number, budgetMs: number): Promise<{ items: ScoredItemId[] | null; outcome: LookupOutcome }> {
    const budgetCut = !this.source.inMemory && budgetMs < this.options.timeoutMs;
    const timeoutMs = budgetCut ? budgetMs : this.options.timeoutMs;
    let result: { items: ScoredItemId[] | null; outcome: LookupOutcome };
    if (timeoutMs <= 0) {
      result = { items: null, outcome: 'no_time' };
    } else {
      try {
        // The request's remaining budget, when shorter than the store's own timeout, gets a policy of its own.
        const deadline = budgetCut ? timeout(timeoutMs, TimeoutStrategy.Aggressive) : this.ownTimeout;
        const items = await this.breaker.execute(() => within(deadline, timeoutMs, budgetCut, () => this.source.lookup(variant, userId, n)));
        result = { items, outcome: items ? 'hit' : 'miss' };
      } catch (err) {
        const outcome = err instanceof BrokenCircuitError ? 'open' : err instanceof LookupTimeout ? 'timeout' : 'error';
        if (outcome !== 'open') this.options.logger.debug({ source: this.source.name, err: (err as Error).message }, 'fallback lookup failed');
        result = { items: null, outcome };
      }
    }
    this.options.onOutcome?.(this.source, result.outcome);
    return result;
  }
}
