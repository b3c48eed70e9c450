"""FAISS IndexFlatIP (exact inner product) over a bench model's own item matrix: the kernel the FAISS peer
runs, timed on one query at a time, as bench/kernels.ts times recserve's kernels.
Usage: faiss_kernel.py <item-factors.f32> <user-factors.f32> <rank> <threads> <budget ms>; prints JSON."""
import json, sys, time
import numpy as np, faiss

items_file, users_file, rank, threads, budget_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
faiss.omp_set_num_threads(threads)
items = np.fromfile(items_file, dtype=np.float32).reshape(-1, rank)
users = np.fromfile(users_file, dtype=np.float32).reshape(-1, rank)
index = faiss.IndexFlatIP(rank)
index.add(items)
rng = np.random.default_rng(12345)
for _ in range(5):
    index.search(users[rng.integers(len(users))][None, :], 10)
times, end = [], time.perf_counter() + budget_ms / 1000
while (time.perf_counter() < end or len(times) < 20) and len(times) < 2000:
    q = users[rng.integers(len(users))][None, :]
    t0 = time.perf_counter()
    index.search(q, 10)
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(json.dumps({"median": times[len(times) // 2], "p99": times[min(len(times) - 1, int(0.99 * len(times)))], "count": len(times)}))
