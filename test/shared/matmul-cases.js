// The matrix-multiply cases every placement must pass, in Node and in Chromium alike.
// Plain JavaScript so that a browser page can import it unbuilt.

/** Every combination of these sizes for m, k and n: tile edges (4, 8) and block edges. */
export const SIZES = [1, 3, 17, 64, 255];

export function shapes() {
  const all = [];
  for (const m of SIZES) for (const k of SIZES) for (const n of SIZES) all.push([m, k, n]);
  // And a few random non-square shapes, from a fixed seed.
  const next = generator(99);
  const size = () => 1 + Math.floor(((next() + 1) / 2) * 300);
  for (let i = 0; i < 8; i++) all.push([size(), size(), size()]);
  return all;
}

/** Mulberry32: a small seeded generator, values in [-1, 1). */
export function generator(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  };
}

export function randomMatrix(next, length) {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = next();
  return out;
}

/** C = A·B in double precision. */
export function naive(a, b, m, k, n) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += x * b[p * n + j];
    }
  }
  return c;
}

/** Returns a description of the first element outside f32 rounding of a length-k dot product. */
export function mismatch(got, want, k) {
  if (got.length !== want.length) return `length ${got.length}, want ${want.length}`;
  const tol = Math.max(k, 1) ** 2 * 2 ** -23 + 1e-6;
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol)) return `element ${i} is ${got[i]}, want ${want[i]}`;
  }
  return null;
}

function sameBits(x, y) {
  if (x.length !== y.length) return false;
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  return a.every((v, i) => v === b[i]);
}

/**
 * Runs every shape through a runtime made with `options` and through a one-thread reference
 * runtime in the same placement; reports mismatches with the naive product and whether the
 * two runtimes agree to the bit.
 */
export async function checkPlacement(createRuntime, options) {
  const runtime = await createRuntime(options);
  const reference = await createRuntime({ ...options, threads: 1 });
  const next = generator(7);
  const failures = [];
  let identical = true;
  let checked = 0;
  try {
    for (const [m, k, n] of shapes()) {
      const a = randomMatrix(next, m * k);
      const b = randomMatrix(next, k * n);
      const c = await runtime.matmul(a, b, m, k, n);
      const problem = mismatch(c, naive(a, b, m, k, n), k);
      if (problem) failures.push(`${m}x${k} · ${k}x${n}: ${problem}`);
      identical &&= sameBits(c, await reference.matmul(a, b, m, k, n));
      checked++;
    }
  } finally {
    await runtime.dispose();
    await reference.dispose();
  }
  return { info: runtime.info, referenceInfo: reference.info, failures, identical, checked };
}

/**
 * Runs every shape through the default build and the relaxed-SIMD build in the same placement:
 * both must be within f32 rounding of the naive product; `differing` counts the elements whose
 * bits differ (fused multiply-adds round once, so some must).
 */
export async function compareRelaxed(createRuntime, options) {
  const plain = await createRuntime(options);
  const relaxed = await createRuntime({ ...options, relaxedSimd: true });
  const next = generator(11);
  const failures = [];
  let differing = 0;
  try {
    for (const [m, k, n] of shapes()) {
      const a = randomMatrix(next, m * k);
      const b = randomMatrix(next, k * n);
      const [c, fused] = [await plain.matmul(a, b, m, k, n), await relaxed.matmul(a, b, m, k, n)];
      const problem = mismatch(fused, naive(a, b, m, k, n), k);
      if (problem) failures.push(`${m}x${k} · ${k}x${n}: ${problem}`);
      differing += c.reduce((count, v, i) => count + (Object.is(v, fused[i]) ? 0 : 1), 0);
    }
  } finally {
    await plain.dispose();
    await relaxed.dispose();
  }
  return { info: relaxed.info, failures, differing };
}
