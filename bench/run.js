// `npm run bench [-- --quick | --smoke]`: seqwasm's workloads, a table on stdout and a JSON file
// with the machine's description in bench/results/. Timings are reported, never asserted.
//   --quick   fewer sizes and repetitions (under 2 minutes)
//   --smoke   the smallest run that exercises every path (what `make test` runs)
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, availableParallelism } from 'node:os';
import { roofline } from './w0-roofline.js';
import { models } from './models.js';

const mode = process.argv.includes('--smoke') ? 'smoke' : process.argv.includes('--quick') ? 'quick' : 'full';
const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version, platform: `${process.platform}-${process.arch}` };
console.log(`seqwasm bench (${mode}) on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n`);

const results = { machine, mode, date: new Date().toISOString(), workloads: {} };
results.workloads.w0 = await roofline(mode);
console.log('W0 roofline: seqwasm GEMM, inline (no copies to a worker), f32');
console.table(results.workloads.w0.rows);
for (const note of results.workloads.w0.notes) console.log(`  ${note}`);

results.workloads.models = await models(mode);
console.log('\nW1–W4: model workloads, every system on the same shapes (GFLOP/s: achieved; "of W0": against a one-thread W0 product in the same round)');
console.table(results.workloads.models.rows);
console.log('the W0 product timed in each round of each workload, one thread');
console.table(results.workloads.models.probes);
console.log('ratios against each peer (seqwasm ÷ peer in speed)');
console.table(results.workloads.models.ratios);
for (const note of results.workloads.models.notes) console.log(`  ${note}`);

const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
const file = new URL(`bench-${mode}-${results.date.replace(/[:.]/g, '-')}.json`, dir);
await writeFile(file, JSON.stringify(results, null, 2));
console.log(`\nwrote ${file.pathname}`);
