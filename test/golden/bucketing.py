"""recserve bucketing in plain Python (no packages), checked against bucketing.json by recserve's tests.

With the mmh3 package, murmur3 mode is simply: mmh3.hash(key, 0, signed=False) % buckets.
Run: python3 bucketing.py bucketing.json
"""
import json
import math
import sys

M32 = 0xFFFFFFFF


def _rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & M32


def _mix_k1(k):
    k = (k * 0xCC9E2D51) & M32
    return (_rotl(k, 15) * 0x1B873593) & M32


def _mix_h1(h, k):
    h = _rotl(h ^ k, 13)
    return (h * 5 + 0xE6546B64) & M32


def _fmix(h, length):
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    return h ^ (h >> 16)


def murmur3_x86_32(data: bytes, seed: int = 0) -> int:
    """Standard MurmurHash3 x86_32, unsigned."""
    h = seed & M32
    aligned = len(data) - len(data) % 4
    for i in range(0, aligned, 4):
        h = _mix_h1(h, _mix_k1(int.from_bytes(data[i:i + 4], "little")))
    k = 0
    for i, byte in enumerate(data[aligned:]):
        k |= byte << (8 * i)
    if len(data) % 4:
        h ^= _mix_k1(k)
    return _fmix(h, len(data))


def spark_hash(data: bytes, seed: int = 42) -> int:
    """Spark SQL hash() on a string: each tail byte sign-extended and mixed as a block; signed."""
    h = seed & M32
    aligned = len(data) - len(data) % 4
    for i in range(0, aligned, 4):
        h = _mix_h1(h, _mix_k1(int.from_bytes(data[i:i + 4], "little")))
    for byte in data[aligned:]:
        h = _mix_h1(h, _mix_k1((byte - 256 if byte > 127 else byte) & M32))
    h = _fmix(h, len(data))
    return h - (1 << 32) if h & 0x80000000 else h


def bucket(salt: str, user_id: str, buckets: int = 10000, mode: str = "murmur3") -> int:
    key = f"{salt}:{user_id}".encode("utf-8")
    if mode == "murmur3":
        return murmur3_x86_32(key) % buckets
    return spark_hash(key) % buckets  # Python's % is already pmod for a positive modulus


def variant(bucket_: int, weights, buckets: int = 10000) -> int:
    """Index of the variant owning the bucket: variant i owns [floor(W(i-1)*B/W), floor(W(i)*B/W))."""
    total = sum(weights)
    cumulative = 0
    for i, w in enumerate(weights):
        cumulative += w
        if bucket_ < math.floor(cumulative * buckets / total):
            return i
    return len(weights) - 1


if __name__ == "__main__":
    cases = json.load(open(sys.argv[1], encoding="utf-8"))["cases"]
    bad = [c for c in cases if bucket(c["salt"], c["userId"], c["buckets"], c["hash"]) != c["bucket"]
           or (murmur3_x86_32 if c["hash"] == "murmur3" else spark_hash)(bytes.fromhex(c["keyUtf8Hex"])) != c["hashValue"]]
    for split in json.load(open(sys.argv[1], encoding="utf-8"))["splits"]:
        lower = 0
        for i, upper in enumerate(split["bounds"]):
            owners = {variant(b, split["weights"], split["buckets"]) for b in {lower, upper - 1} if lower < upper}
            if owners - {i}:
                bad.append(split)
            lower = upper
    print(f"{len(cases) - len(bad)} passed, {len(bad)} failed")
    sys.exit(1 if bad else 0)
