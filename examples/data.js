// What several examples share: a small seeded generator (Park and Miller's), and the adding
// problem of Hochreiter and Schmidhuber (1997).

/** Uniform numbers in (0, 1), the same sequence for the same seed. */
export function lehmer(seed) {
  return () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
}

/**
 * `n` sequences of `steps` steps, each step a value in (0, 1) and a marker; one step in each
 * half is marked, and the target is the sum of the two marked values.
 */
export function addingProblem(random, n, steps) {
  const x = new Float32Array(n * steps * 2);
  const y = new Float32Array(n);
  for (let b = 0; b < n; b++) {
    const first = Math.floor(random() * (steps / 2));
    const second = steps / 2 + Math.floor(random() * (steps / 2));
    for (let t = 0; t < steps; t++) {
      const v = random();
      x[(b * steps + t) * 2] = v;
      if (t === first || t === second) {
        x[(b * steps + t) * 2 + 1] = 1;
        y[b] += v;
      }
    }
  }
  return { x: { data: x, shape: [n, steps, 2] }, y: { data: y, shape: [n, 1] } };
}
