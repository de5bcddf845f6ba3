// Drives the Files API of one version of the official @google/genai SDK against a live genserve
// server and prints one JSON object of observed facts per check. tests/contract/test_js_files.py
// creates the input files, runs this once per SDK version and asserts on what it printed.
//
//   node tests/contract/js/files.mjs <baseUrl> <alias> <inputs.json>
//
// <inputs.json> (written by the Python test) names local files:
//   {"text": "<a text file>", "tinyText": "<a tiny text file>", "mp4": "<a real 1 s H.264 MP4>"}
//
// What is checked: resumable uploads from a path and from a Blob (and a 17 MiB Blob that the SDK
// sends in 8 MiB chunks), files.get, files.list paging, files.download (and a plain fetch of
// :download?alt=media), files.delete, user-chosen names (kept; a duplicate is a 409), the
// PROCESSING -> ACTIVE / FAILED state machine for video, and fileData parts in generateContent.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { parseArgs, loadSdk, recordRequests, runChecks, describeError, emit, fail } from './harness.mjs';

const { baseUrl, alias } = parseArgs();
const inputsPath = process.argv[4] ?? process.env.GENSERVE_FILES_INPUTS;
if (!inputsPath) fail('usage: node files.mjs <baseUrl> <sdkAlias> <inputs.json>');
const inputs = JSON.parse(readFileSync(inputsPath, 'utf8'));
const { sdk, version } = await loadSdk(alias);
const requestLog = recordRequests();

// On top of the harness's log: the X-Goog-Upload-* headers of every upload request and the
// status header of its reply, to see the chunking the SDK did.
const uploadLog = [];
{
  const inner = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (!url.pathname.startsWith('/upload/')) return inner(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const body = init?.body;
    const entry = {
      path: url.pathname,
      hasUploadId: url.searchParams.has('upload_id'),
      command: headers.get('x-goog-upload-command'),
      offset: headers.get('x-goog-upload-offset'),
      protocol: headers.get('x-goog-upload-protocol'),
      bodyBytes: body?.size ?? body?.byteLength ?? (typeof body === 'string' ? Buffer.byteLength(body) : null),
    };
    const response = await inner(input, init);
    entry.status = response.status;
    entry.uploadStatus = response.headers.get('x-goog-upload-status');
    uploadLog.push(entry);
    return response;
  };
}

const ai = new sdk.GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });
const CHAT_MODEL = 'gemini-2.0-flash';
const workDir = mkdtempSync(join(tmpdir(), `genserve-js-files-${alias}-`));
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));

// Google's sha256Hash: base64 of the lowercase *hex* digest (not of the raw digest).
const sha256HexB64 = (bytes) => Buffer.from(createHash('sha256').update(bytes).digest('hex')).toString('base64');
const sha256Hex = (bytes) => createHash('sha256').update(bytes).digest('hex');
const plain = (value) => JSON.parse(JSON.stringify(value ?? null));
const idOf = (name) => name.replace(/^files\//, '');

async function rejection(promiseFn) {
  try {
    const value = await promiseFn();
    return { threw: false, value: plain(value) };
  } catch (err) {
    return describeError(err, sdk);
  }
}

function uploadsSince(before) {
  return uploadLog.slice(before);
}

// Names of every file this run uploaded and has not deleted, for the list check.
const live = new Set();
const shared = {}; // facts one check hands to a later one
async function upload(file, config) {
  const result = await ai.files.upload({ file, config });
  if (result?.name) live.add(result.name);
  return result;
}

async function pollUntilSettled(name, { everyMs = 100, limitMs = 20000 } = {}) {
  const started = performance.now();
  const states = [];
  let file;
  for (;;) {
    file = await ai.files.get({ name });
    if (states.at(-1) !== file.state) states.push(file.state ?? null);
    if (file.state !== 'PROCESSING' || performance.now() - started > limitMs) break;
    await sleep(everyMs);
  }
  return { file: plain(file), states, waitedMs: Math.round(performance.now() - started) };
}

const checks = {
  async upload_path() {
    const bytes = readFileSync(inputs.text);
    const file = await upload(inputs.text, { mimeType: 'text/plain', displayName: 'js path upload' });
    shared.pathFile = plain(file);
    return { file: plain(file), size: bytes.length, sha256: sha256HexB64(bytes) };
  },

  async upload_blob() {
    const bytes = randomBytes(1000);
    const before = uploadLog.length;
    const file = await upload(new Blob([bytes]), { mimeType: 'application/octet-stream', displayName: 'js blob upload' });
    shared.blob = { file: plain(file), bytes };
    return { file: plain(file), size: bytes.length, sha256: sha256HexB64(bytes), uploads: uploadsSince(before) };
  },

  async upload_large() {
    const bytes = randomBytes(17 * 1024 * 1024);
    const before = uploadLog.length;
    const started = performance.now();
    const file = await upload(new Blob([bytes], { type: 'application/octet-stream' }), { displayName: 'js 17 MiB' });
    shared.large = { file: plain(file), bytes };
    return {
      file: plain(file),
      size: bytes.length,
      sha256: sha256HexB64(bytes),
      uploadMs: Math.round(performance.now() - started),
      uploads: uploadsSince(before),
    };
  },

  async get() {
    const out = {};
    for (const [key, file] of [['path', shared.pathFile], ['blob', shared.blob.file], ['large', shared.large.file]]) {
      const got = await ai.files.get({ name: file.name });
      out[key] = { uploaded: file, got: plain(got) };
    }
    // The bare id (no "files/" prefix) and the file's uri are accepted by the SDK as well (it
    // reduces both to the id).
    out.byBareId = plain(await ai.files.get({ name: idOf(shared.blob.file.name) }));
    out.byUri = plain(await ai.files.get({ name: shared.blob.file.uri }));
    return out;
  },

  async list_paged() {
    const before = requestLog.length;
    const names = [];
    const pager = await ai.files.list({ config: { pageSize: 2 } });
    const firstPageSize = pager.pageLength ?? pager.page?.length ?? null;
    for await (const file of pager) names.push(file.name);
    const listRequests = requestLog.slice(before).filter((r) => r.method === 'GET');
    return {
      names,
      expected: [...live],
      firstPageSize,
      listRequests: listRequests.map((r) => r.query),
    };
  },

  async download_sdk() {
    // files.download with the File object and with the name string, both to a local path.
    const out = {};
    for (const [key, which] of [['blobByFile', shared.blob], ['largeByName', shared.large]]) {
      const downloadPath = join(workDir, `${key}.bin`);
      const arg = key === 'blobByFile' ? which.file : which.file.name;
      const outcome = await rejection(() => ai.files.download({ file: arg, downloadPath }));
      const written = existsSync(downloadPath) ? readFileSync(downloadPath) : null;
      out[key] = {
        outcome,
        written: written !== null,
        size: written?.length ?? null,
        sha256Equal: written ? sha256Hex(written) === sha256Hex(which.bytes) : false,
      };
    }
    return out;
  },

  async download_fetch() {
    // The same bytes without the SDK, on both API versions.
    const out = {};
    for (const apiVersion of ['v1beta', 'v1']) {
      const id = idOf(shared.large.file.name);
      const response = await fetch(`${baseUrl}/${apiVersion}/files/${id}:download?alt=media`, {
        headers: { 'x-goog-api-key': 'test-key' },
      });
      const body = Buffer.from(await response.arrayBuffer());
      out[apiVersion] = {
        status: response.status,
        contentType: response.headers.get('content-type'),
        size: body.length,
        sha256Equal: sha256Hex(body) === sha256Hex(shared.large.bytes),
      };
    }
    return out;
  },

  async delete() {
    const file = await upload(new Blob([Buffer.from('delete me')]), { mimeType: 'text/plain', displayName: 'js delete' });
    const deleted = await ai.files.delete({ name: file.name });
    live.delete(file.name);
    const names = [];
    for await (const f of await ai.files.list({ config: { pageSize: 50 } })) names.push(f.name);
    return {
      name: file.name,
      deleteResult: plain(deleted),
      getAfter: await rejection(() => ai.files.get({ name: file.name })),
      deleteAgain: await rejection(() => ai.files.delete({ name: file.name })),
      listedAfter: names.includes(file.name),
    };
  },

  async user_name() {
    const name = `files/js-${alias}-${randomBytes(4).toString('hex')}`;
    const file = await upload(new Blob([Buffer.from('chosen name')]), { mimeType: 'text/plain', name, displayName: 'js named' });
    const before = uploadLog.length;
    const again = await rejection(() =>
      ai.files.upload({ file: new Blob([Buffer.from('other bytes')]), config: { mimeType: 'text/plain', name } }),
    );
    const got = await rejection(() => ai.files.get({ name }));
    // The SDK's tFileName cuts an https:// uri down to the first [a-z0-9]+ run after "files/", so
    // a chosen name with a hyphen cannot be fetched by its uri: this records what the SDK requests.
    const beforeUri = requestLog.length;
    const byUri = await rejection(() => ai.files.get({ name: file.uri }));
    const byUriPath = requestLog.slice(beforeUri).map((r) => r.path);
    return { requested: name, file: plain(file), again, againUploads: uploadsSince(before), got, byUri, byUriPath };
  },

  async video_processing() {
    const file = await upload(inputs.mp4, { mimeType: 'video/mp4', displayName: 'js tiny mp4' });
    const polled = await pollUntilSettled(file.name);
    return { uploaded: plain(file), ...polled };
  },

  async video_undecodable() {
    const file = await upload(new Blob([randomBytes(4096)]), { mimeType: 'video/mp4', displayName: 'js broken mp4' });
    const polled = await pollUntilSettled(file.name);
    shared.failedVideo = polled.file;
    return { uploaded: plain(file), ...polled };
  },

  async generate_with_text_file() {
    const run = async (path, displayName) => {
      const file = await upload(path, { mimeType: 'text/plain', displayName });
      const before = requestLog.length;
      const response = await ai.models.generateContent({
        model: CHAT_MODEL,
        contents: [sdk.createPartFromUri(file.uri, file.mimeType), 'Summarise this'],
        config: { maxOutputTokens: 3 },
      });
      const sent = requestLog.slice(before).find((r) => r.body)?.body ?? null;
      return {
        file: plain(file),
        usageMetadata: plain(response.usageMetadata),
        finishReason: response.candidates?.[0]?.finishReason ?? null,
        sentParts: sent?.contents?.flatMap((c) => c.parts ?? []) ?? null,
      };
    };
    return {
      big: await run(inputs.text, 'js prompt text'),
      tiny: await run(inputs.tinyText, 'js tiny prompt text'),
      bigSize: readFileSync(inputs.text).length,
      tinySize: readFileSync(inputs.tinyText).length,
    };
  },

  async generate_with_image_file() {
    const file = await upload(new Blob([randomBytes(256)]), { mimeType: 'image/png', displayName: 'js png' });
    const error = await rejection(() =>
      ai.models.generateContent({
        model: CHAT_MODEL,
        contents: [{ role: 'user', parts: [{ fileData: { fileUri: file.uri, mimeType: file.mimeType } }, { text: 'Describe' }] }],
        config: { maxOutputTokens: 3 },
      }),
    );
    return { file: plain(file), error };
  },

  async generate_with_failed_file() {
    // A FAILED file (the undecodable "video") is refused because of its state. The part declares
    // text/plain so the request gets past the model's modality check on the declared mimeType and
    // reaches the file itself.
    const file = shared.failedVideo;
    const error = await rejection(() =>
      ai.models.generateContent({
        model: CHAT_MODEL,
        contents: [sdk.createPartFromUri(file.uri, 'text/plain'), 'Describe'],
        config: { maxOutputTokens: 3 },
      }),
    );
    return { state: file.state, error };
  },

  async generate_with_processing_file() {
    // Used straight after upload, before the probe has finished. The probe of a 4 KiB file takes
    // milliseconds and may win the race: then the file is FAILED (FAILED_PRECONDITION as well).
    const file = await upload(new Blob([randomBytes(4096)]), { mimeType: 'video/mp4', displayName: 'js mp4 race' });
    const error = await rejection(() =>
      ai.models.generateContent({
        model: CHAT_MODEL,
        contents: [sdk.createPartFromUri(file.uri, 'text/plain'), 'Describe'],
        config: { maxOutputTokens: 3 },
      }),
    );
    // The same PROCESSING-or-later video declared as video/mp4: refused by the text-only model
    // from the declared mimeType, before the file's state is looked at.
    const declaredVideo = await rejection(() =>
      ai.models.generateContent({
        model: CHAT_MODEL,
        contents: [sdk.createPartFromUri(file.uri, 'video/mp4'), 'Describe'],
        config: { maxOutputTokens: 3 },
      }),
    );
    return { uploadedState: file.state ?? null, error, declaredVideo };
  },
};

const results = await runChecks(checks, { sdk, requestLog });
emit({ alias, sdkVersion: version, baseUrl, checks: results });
