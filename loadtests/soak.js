// Soak: a moderate constant rate for hours, to find leaks and slow drifts (watch RSS and p99 in Prometheus).
import { recommend, thresholds } from './lib.js';

export const options = {
  scenarios: {
    soak: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || '200'),
      timeUnit: '1s',
      duration: __ENV.DURATION || '4h',
      preAllocatedVUs: Number(__ENV.VUS || '30'),
      maxVUs: Number(__ENV.MAX_VUS || '100'),
    },
  },
  thresholds,
};

export default function () {
  recommend();
}
