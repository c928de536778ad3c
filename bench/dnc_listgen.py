"""Synthetic national DNC lists with the structure of real ones, for bench/dnc_national.py.

NANP: ~330 area codes (NPA N[0-8]X, no N11/37X/96X; fewer for a smaller list, so that its
density stays that of the full one); in each, 45-95 % of the exchange codes
(NXX 200-999 less N11 and 555/950/958/959/976) are in service; in an exchange each thousands
block is assigned with probability 0.85 (number pooling leaves the rest empty); the share of
assigned lines on the registry varies by exchange (Beta(2, 5) scaled to hit the wanted count).
About 1.6 % of the lines repeat an earlier number, as in the 246M-unique/250M-line anchor list.
The file is written in the FTC full-list layout (``NPA,NNNNNNN``) in random order.

CN mobile: 11-digit numbers under the 1[3-9]X segments in use; each 7-digit prefix (H code) in
service with probability 0.8, registry share per prefix as above; one number a line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
DUP_SHARE = 0.016
_CN_SEGMENTS = [
    *range(130, 140), *range(145, 150), 150, 151, 152, 153, *range(155, 160),
    162, 165, 166, 167, *range(170, 179), *range(180, 190), *range(190, 200),
]  # fmt: skip


def _nanp_exchanges(rng: np.random.Generator, area_codes: int) -> npt.NDArray[np.int64]:
    npas = [
        n
        for n in range(200, 990)
        if (n // 10) % 10 != 9 and n % 100 != 11 and n // 10 not in (37, 96)
    ]
    chosen = rng.choice(npas, size=area_codes, replace=False)
    nxx = np.array(
        [x for x in range(200, 1000) if x % 100 != 11 and x not in (555, 950, 958, 959, 976)]
    )
    exchanges = []
    for npa in chosen:
        share = rng.uniform(0.45, 0.95)
        exchanges.append(npa * 1000 + nxx[rng.random(len(nxx)) < share])
    return np.sort(np.concatenate(exchanges)).astype(np.int64)


def _draw(rng: np.random.Generator, prefixes: npt.NDArray[np.int64], wanted: int) -> U64:
    """Unique numbers ``prefix * 10**4 + line`` with per-prefix registry shares."""
    assigned = rng.random((len(prefixes), 10)) < 0.85
    slots = int(assigned.sum()) * 1000
    shares = rng.beta(2.0, 5.0, len(prefixes)) / (2.0 / 7.0)
    rates = np.minimum(shares * (wanted * 1.02 / slots), 0.97)
    thresholds = (rates * 65536).astype(np.uint32)
    parts = []
    step = 4000
    for lo in range(0, len(prefixes), step):
        hi = min(lo + step, len(prefixes))
        draw = rng.integers(0, 65536, (hi - lo, 10, 1000), dtype=np.uint16)
        hit = (draw < thresholds[lo:hi, None, None]) & assigned[lo:hi, :, None]
        p, block, line = np.nonzero(hit)
        parts.append((prefixes[lo + p] * 10_000 + block * 1000 + line).astype(np.uint64))
    numbers = np.concatenate(parts)
    if len(numbers) > wanted:
        numbers = numbers[np.sort(rng.choice(len(numbers), wanted, replace=False))]
    return numbers


def nanp_numbers(count: int, seed: int = 20240601) -> U64:
    """``count`` lines' worth of NANP national numbers (with ~1.6 % repeats), shuffled."""
    rng = np.random.default_rng(seed)
    area_codes = max(8, min(330, round(330 * count / 250e6)))
    unique = _draw(rng, _nanp_exchanges(rng, area_codes), round(count * (1 - DUP_SHARE)))
    lines = np.concatenate([unique, unique[rng.integers(0, len(unique), count - len(unique))]])
    rng.shuffle(lines)
    return lines


def cn_numbers(count: int, seed: int = 20240602) -> U64:
    """``count`` CN mobile national numbers (unique), shuffled."""
    rng = np.random.default_rng(seed)
    share = min(0.8, 0.8 * count / 250e6 * 4)  # a smaller list covers fewer H codes
    prefixes = np.concatenate(
        [seg * 10_000 + np.flatnonzero(rng.random(10_000) < share) for seg in _CN_SEGMENTS]
    ).astype(np.int64)
    numbers = _draw(rng, prefixes, count)
    rng.shuffle(numbers)
    return numbers


def write_lines(numbers: U64, path: Path, layout: str) -> None:
    """Write numbers as ``NPA,NNNNNNN`` (layout "ftc") or as plain national digits."""
    digits = 10 if layout == "ftc" else 11
    width = digits + (2 if layout == "ftc" else 1)
    cols = [c for c in range(width - 1) if not (layout == "ftc" and c == 3)]
    with path.open("wb") as handle:
        for lo in range(0, len(numbers), 4_000_000):
            chunk = numbers[lo : lo + 4_000_000]
            rows = np.empty((len(chunk), width), dtype=np.uint8)
            rows[:, -1] = ord("\n")
            if layout == "ftc":
                rows[:, 3] = ord(",")
            rest = chunk.copy()
            for col in reversed(cols):
                rows[:, col] = rest % np.uint64(10) + np.uint64(ord("0"))
                rest //= np.uint64(10)
            handle.write(rows.tobytes())
