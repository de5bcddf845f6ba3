// Shared plumbing for the JS contract scripts: argv parsing, loading one aliased SDK version,
// recording which HTTP requests the SDK made, and printing exactly one JSON object.
//
// Usage of a script built on this:  node <script>.mjs <baseUrl> <alias>
//   (or env GENSERVE_URL / GENAI_SDK). <alias> is a dependency name from package.json:
//   genai3 (@google/genai 3.1.0), genai2 (2.32.0), genai130 (1.30.0).
//
// Output protocol: the LAST line of stdout is one JSON object. Anything the SDK itself logs
// (console.warn goes to stderr anyway) cannot corrupt it. Exit code 0 means every check ran
// (a check that threw is recorded in the JSON as {"exception": ...}); exit code 2 means the
// harness itself could not start (bad arguments, SDK not installed).

import { readFileSync } from 'node:fs';

export const KNOWN_ALIASES = ['genai3', 'genai2', 'genai130'];

export function fail(message) {
  process.stderr.write(`contract harness: ${message}\n`);
  process.exit(2);
}

export function parseArgs() {
  const baseUrl = process.argv[2] ?? process.env.GENSERVE_URL;
  const alias = process.argv[3] ?? process.env.GENAI_SDK;
  if (!baseUrl || !alias) fail('usage: node <script>.mjs <baseUrl> <sdkAlias>');
  if (!KNOWN_ALIASES.includes(alias)) fail(`unknown SDK alias ${alias}; expected one of ${KNOWN_ALIASES.join(', ')}`);
  return { baseUrl: baseUrl.replace(/\/+$/, ''), alias };
}

export async function loadSdk(alias) {
  let sdk;
  try {
    sdk = await import(alias);
  } catch (err) {
    fail(`cannot import ${alias} (${err.message}); run ./scripts/test or (cd tests/contract/js && npm install)`);
  }
  // package.json is not in the SDK's "exports" map, so read it from disk.
  const manifest = new URL(`./node_modules/${alias}/package.json`, import.meta.url);
  const version = JSON.parse(readFileSync(manifest, 'utf8')).version;
  return { sdk, version };
}

// Wraps global fetch (every SDK version calls the global `fetch` at request time) so each check
// can report which paths it hit: that is how /v1 vs /v1beta and the embed route are verified.
export function recordRequests() {
  const log = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const entry = { method: (init?.method ?? input?.method ?? 'GET').toUpperCase(), path: url.pathname, query: url.search };
    if (typeof init?.body === 'string') {
      try {
        entry.body = JSON.parse(init.body);
      } catch {
        entry.body = null;
      }
    }
    log.push(entry);
    return realFetch(input, init);
  };
  return log;
}

export function describeError(err, sdk) {
  return {
    threw: true,
    name: err?.name ?? null,
    isApiError: sdk?.ApiError ? err instanceof sdk.ApiError : null,
    status: err?.status ?? null,
    message: String(err?.message ?? err).slice(0, 2000),
  };
}

// Runs named checks one after another. A check returns a plain object of observed facts; if it
// throws unexpectedly, {"exception": ..., "stack": ...} is recorded instead so the Python side
// can name the check that broke.
export async function runChecks(checks, { sdk, requestLog }) {
  const results = {};
  for (const [name, fn] of Object.entries(checks)) {
    const before = requestLog.length;
    const started = performance.now();
    try {
      results[name] = await fn();
    } catch (err) {
      results[name] = { exception: describeError(err, sdk), stack: String(err?.stack ?? '').slice(0, 2000) };
    }
    results[name].requests = requestLog.slice(before).map(({ method, path, query }) => ({ method, path, query }));
    results[name].elapsedMs = Math.round(performance.now() - started);
  }
  return results;
}

export function emit(obj) {
  process.stdout.write('\n' + JSON.stringify(obj) + '\n', () => process.exit(0));
}

export function norm(values) {
  return Math.sqrt(values.reduce((s, v) => s + v * v, 0));
}
