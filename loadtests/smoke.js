// Smoke: one virtual user for 30 s. k6 run loadtests/smoke.js
import { recommend, thresholds } from './lib.js';

export const options = { vus: 1, duration: __ENV.DURATION || '30s', thresholds };

export default function () {
  recommend();
}
