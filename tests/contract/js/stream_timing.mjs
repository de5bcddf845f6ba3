// Live streaming through the official SDK: are chunks delivered as they are generated, and does
// the server stop generating when the client goes away?
//
//   node tests/contract/js/stream_timing.mjs http://127.0.0.1:8080 genai3
//
// `scripted-slow` streams 400 "tick " chunks 20 ms apart (8 s in all) from an engine with a single
// worker. The script
//   1. starts a stream with an AbortSignal (the SDK's documented way to cancel), records when
//      each of the first 10 chunks arrives, breaks out of the loop and aborts the request;
//   2. immediately starts a second stream on the same model and times its first chunk. Because
//      the engine has one worker, that chunk is only quick if the server cancelled the first
//      generation when the client disconnected; otherwise it waits for the ~8 s left of it.
//   3. does the same with a plain `break` and no abort signal, then exits. The SDK's iterator
//      only releases the reader lock on `break` (it does not cancel the response body), so the
//      connection stays open until this process exits; the Python side then checks that the
//      server cancelled that generation too, once the process (and so the socket) was gone.

import { parseArgs, loadSdk, describeError, emit } from './harness.mjs';

const { baseUrl, alias } = parseArgs();
const { sdk, version } = await loadSdk(alias);
const ai = new sdk.GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });

const MODEL = 'scripted-slow';
const WANT = 10;

async function timedStream({ take, abort }) {
  const controller = new AbortController();
  const config = abort ? { abortSignal: controller.signal } : {};
  const started = performance.now();
  const arrivals = [];
  const texts = [];
  let error = null;
  let headersMs = null; // the call resolves once the response headers are in (the server sends them with the first chunk)
  try {
    const stream = await ai.models.generateContentStream({ model: MODEL, contents: 'tick please', config });
    headersMs = Math.round((performance.now() - started) * 10) / 10;
    for await (const chunk of stream) {
      arrivals.push(Math.round((performance.now() - started) * 10) / 10);
      texts.push(chunk.text ?? '');
      if (arrivals.length >= take) break; // early exit: the rest of the 400 chunks is never read
    }
  } catch (err) {
    error = describeError(err, sdk);
  }
  const brokeAtMs = Math.round(performance.now() - started);
  if (abort) controller.abort();
  return { headersMs, arrivals, texts, brokeAtMs, error };
}

const aborted = await timedStream({ take: WANT, abort: true });
const probeAfterAbort = await timedStream({ take: 1, abort: true });
const plainBreak = await timedStream({ take: WANT, abort: false });

emit({
  alias,
  sdkVersion: version,
  baseUrl,
  fullStreamMs: 400 * 20,
  aborted,
  probeAfterAbort,
  plainBreak,
});
