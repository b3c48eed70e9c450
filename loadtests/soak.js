// Soak: a moderate constant rate for hours, to find leaks and slow drifts (watch RSS and p99 in Prometheus).
import { constantArrival, recommend } from './lib.js';

export const options = constantArrival('soak', { rate: 200, duration: '4h', vus: 30, maxVus: 100 });

export default function () {
  recommend();
}
