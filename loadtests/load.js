// Load: a constant arrival rate (RATE requests/s for DURATION), held to the p(99) and error thresholds.
import { constantArrival, recommend } from './lib.js';

export const options = constantArrival('load', { rate: 500, duration: '5m', vus: 50, maxVus: 200 });

export default function () {
  recommend();
}
