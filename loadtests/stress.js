// Stress: ramp the arrival rate up in steps until the thresholds break; k6 stops at the first breach.
import { recommend, thresholds } from './lib.js';

const start = Number(__ENV.START_RATE || '200');
const step = Number(__ENV.STEP_RATE || '200');
const steps = Number(__ENV.STEPS || '10');

export const options = {
  scenarios: {
    stress: {
      executor: 'ramping-arrival-rate',
      startRate: start,
      timeUnit: '1s',
      preAllocatedVUs: Number(__ENV.VUS || '100'),
      maxVUs: Number(__ENV.MAX_VUS || '1000'),
      stages: Array.from({ length: steps }, (_, i) => ({ target: start + step * (i + 1), duration: __ENV.STEP_DURATION || '1m' })),
    },
  },
  thresholds: Object.fromEntries(Object.entries(thresholds).map(([metric, rules]) => [metric, rules.map((threshold) => ({ threshold, abortOnFail: true, delayAbortEval: '10s' }))])),
};

export default function () {
  recommend();
}
