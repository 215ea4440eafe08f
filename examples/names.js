// The US city names of vega-datasets' zipcodes file as a character-level language-modelling
// task, shared by the Node example (char-lm.js) and the browser demo (browser/). No Node or
// browser API here: the caller reads the CSV text.
import { lehmer } from './data.js';

/** Distinct lower-case city names of at most 24 plain characters, in a fixed shuffled order. */
export function cityNames(csv) {
  const names = [...new Set(csv.trim().split('\n').slice(1).map((line) => line.split(',')[3].toLowerCase()))]
    .filter((n) => /^[a-z .'-]+$/.test(n) && n.length <= 24);
  const random = lehmer(7);
  for (let i = names.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [names[i], names[j]] = [names[j], names[i]];
  }
  return names;
}

/**
 * The symbols of `names` with '^' (a name starts) and '$' (it ends), and an encoder of a list
 * of names into next-character batches: `x` and `y` `[names, steps]` token ids, with lengths.
 */
export function characterTask(names) {
  const alphabet = ['^', '$', ...new Set(names.join(''))].sort();
  const id = new Map(alphabet.map((c, i) => [c, i]));
  const steps = Math.max(...names.map((n) => n.length)) + 1;
  function encode(list) {
    const x = new Uint32Array(list.length * steps);
    const y = new Uint32Array(list.length * steps);
    const lengths = list.map((name, n) => {
      const chars = ['^', ...name, '$'].map((c) => id.get(c));
      for (let t = 0; t < chars.length - 1; t++) {
        x[n * steps + t] = chars[t];
        y[n * steps + t] = chars[t + 1];
      }
      return chars.length - 1;
    });
    return { x: { data: x, shape: [list.length, steps] }, y: { data: y, shape: [list.length, steps] }, lengths };
  }
  /** The text of generated ids, up to the first end symbol. */
  const text = (ids) => Array.from(ids, (i) => alphabet[i]).join('').split('$')[0];
  return { alphabet, id, steps, encode, text };
}
