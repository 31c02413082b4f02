// groq-js side of bench/groq_refs_bench.py: load an NDJSON dataset, time queries.
//
//   node bench/groq_refs_bench.mjs <dir with node_modules/groq-js> <dataset.ndjson> <runs> <queries.json>
//
// queries.json: {"name": {"query": "...", "params": {...}, "runs": n}}. Each query is parsed
// once, then evaluated its `runs` times, else `<runs>` (evaluate + result.get()). Prints JSON:
// {"version": "x.y.z", "load_ms": n, "results": {"name": {"ms": [...], "sha256": "...", "count": n}}}.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [dir, file, runsText, queriesFile] = process.argv.slice(2);
const entry = join(dir, 'node_modules', 'groq-js', 'dist', 'index.js');
const { parse, evaluate } = await import(pathToFileURL(entry).href);
const { version } = JSON.parse(readFileSync(join(dir, 'node_modules', 'groq-js', 'package.json'), 'utf8'));

let start = performance.now();
const dataset = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const loadMs = performance.now() - start;
const queries = JSON.parse(readFileSync(queriesFile, 'utf8'));
const results = {};
for (const [name, { query, params, runs }] of Object.entries(queries)) {
  const tree = parse(query, { params });
  const ms = [];
  let value;
  for (let i = 0; i < (runs ?? Number(runsText)); i++) {
    start = performance.now();
    value = await (await evaluate(tree, { dataset, params })).get();
    ms.push(performance.now() - start);
  }
  const text = JSON.stringify(value);
  results[name] = {
    ms,
    sha256: createHash('sha256').update(text).digest('hex'),
    count: Array.isArray(value) ? value.length : null,
  };
}
process.stdout.write(JSON.stringify({ version, load_ms: loadMs, results }) + '\n');
