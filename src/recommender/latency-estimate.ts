/**
 * A moving estimate of how long a recommender takes, to skip it when a request's deadline would
 * be missed. While skipped, the estimate decays, so the recommender is tried again now and then
 * and a model that got faster (or a machine that got quieter) is noticed.
 */
export class LatencyEstimate {
  private ms = 0;
  private seen = false;

  observe(ms: number): void {
    this.ms = this.seen ? 0.8 * this.ms + 0.2 * ms : ms;
    this.seen = true;
  }

  /** Whether the recommender is expected to answer within `remainingMs`; each "no" decays the estimate. */
  fits(remainingMs: number): boolean {
    if (!this.seen || this.ms <= remainingMs) return true;
    this.ms *= 0.98;
    return false;
  }
}
