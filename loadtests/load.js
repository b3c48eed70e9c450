// Load: a constant arrival rate (RATE requests/s for DURATION), held to the p(99) and error thresholds.
import { recommend, thresholds } from './lib.js';

export const options = {
  scenarios: {
    load: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || '500'),
      timeUnit: '1s',
      duration: __ENV.DURATION || '5m',
      preAllocatedVUs: Number(__ENV.VUS || '50'),
      maxVUs: Number(__ENV.MAX_VUS || '200'),
    },
  },
  thresholds,
};

export default function () {
  recommend();
}
