// Shared by the k6 scripts: who to ask for, and what a good answer looks like.
import http from 'k6/http';
import { check } from 'k6';

export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
/** Share of requests for users the model does not know, to exercise the fallbacks (0..1). */
export const UNKNOWN_SHARE = Number(__ENV.UNKNOWN_SHARE || '0.1');
export const N = Number(__ENV.N || '10');

/**
 * Known users, written by `recserve users --feed <root> --name <model> --sample N > loadtests/users.json`.
 * USERS_FILE is taken relative to the working directory (k6's open() would take it relative to this file).
 */
const usersFile = __ENV.USERS_FILE || 'loadtests/users.json';
export const users = JSON.parse(open(usersFile.startsWith('/') || !__ENV.PWD ? usersFile : `${__ENV.PWD}/${usersFile}`));

/** A 404 for an unknown user is an answer (no fallback configured), not a failed request. */
const KNOWN_OK = http.expectedStatuses(200);
const UNKNOWN_OK = http.expectedStatuses(200, 404);

/** The thresholds every scenario is held to; P99_MS, MAX_ERROR_RATE and MAX_DROPPED override them. */
export const thresholds = {
  http_req_duration: [`p(99)<${__ENV.P99_MS || '50'}`],
  http_req_failed: [`rate<${__ENV.MAX_ERROR_RATE || '0.001'}`],
  checks: ['rate>0.999'],
  // Iterations k6 could not start on time: the server did not keep up with the arrival rate.
  dropped_iterations: [`count<=${__ENV.MAX_DROPPED || '0'}`],
};

/** One recommendation request for a random user (a share of them unknown) with its checks. */
export function recommend() {
  const unknown = Math.random() < UNKNOWN_SHARE;
  const userId = unknown ? `k6-unknown-${Math.floor(Math.random() * 1e9)}` : users[Math.floor(Math.random() * users.length)];
  const res = http.get(`${BASE_URL}/recommend/${encodeURIComponent(userId)}?n=${N}`, {
    tags: { name: 'recommend', known: String(!unknown) },
    responseCallback: unknown ? UNKNOWN_OK : KNOWN_OK,
  });
  check(res, {
    // An unknown user with no fallback configured is a 404 by design; anything else must be 200.
    'status is 200 (or 404 for an unknown user)': (r) => r.status === 200 || (unknown && r.status === 404),
    'body has items, variant and source': (r) => {
      if (r.status !== 200) return true;
      return Array.isArray(r.json('items')) && typeof r.json('variant') === 'string' && typeof r.json('source') === 'string';
    },
    'known users are answered by the model': (r) => unknown || r.status !== 200 || r.json('source') === 'model',
  });
  return res;
}

/** Options for a constant arrival rate of RATE requests/s over DURATION, with the shared thresholds. */
export function constantArrival(name, defaults) {
  return {
    scenarios: {
      [name]: {
        executor: 'constant-arrival-rate',
        rate: Number(__ENV.RATE || defaults.rate),
        timeUnit: '1s',
        duration: __ENV.DURATION || defaults.duration,
        preAllocatedVUs: Number(__ENV.VUS || defaults.vus),
        maxVUs: Number(__ENV.MAX_VUS || defaults.maxVus),
      },
    },
    thresholds,
  };
}
