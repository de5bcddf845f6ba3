// Veo video generation through one @google/genai version: generateVideos, then getVideosOperation until done,
// then files.download({file, downloadPath}) (Developer API), and the same call in Vertex express mode, where the
// finished operation carries the bytes inline. Prints one JSON object of observed facts; the MP4s are written to
// <outDir> and tests/contract/test_js_videos.py inspects them.
//
//   node tests/contract/js/videos.mjs http://127.0.0.1:8080 genai130 /tmp/out /path/to/a-first-frame.png

import { readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, loadSdk, recordRequests, runChecks, emit, describeError, fail } from './harness.mjs';

const { baseUrl, alias } = parseArgs();
const outDir = process.argv[4];
const framePath = process.argv[5];
if (!outDir || !framePath) fail('usage: node videos.mjs <baseUrl> <sdkAlias> <outDir> <a PNG first frame>');
const FRAME = readFileSync(framePath).toString('base64');
const { sdk, version } = await loadSdk(alias);
const requestLog = recordRequests();
const ai = new sdk.GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });
const vertex = new sdk.GoogleGenAI({ vertexai: true, apiKey: 'test-key', httpOptions: { baseUrl } });
const POLL_MS = 300;

async function waitFor(client, operation) {
  const started = performance.now();
  const states = [];
  while (!operation.done) {
    if (performance.now() - started > 90_000) throw new Error(`operation ${operation.name} not done after 90 s`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    operation = await client.operations.getVideosOperation({ operation });
    states.push(operation.done ? 'DONE' : (operation.metadata?.state ?? null));
  }
  return { operation, states };
}

// Submits, polls, then downloads every generated video to <outDir>/<prefix>-<i>.mp4 the way the docs do.
async function generateAndDownload(params, prefix) {
  const submitted = await ai.models.generateVideos(params);
  const { operation, states } = await waitFor(ai, submitted);
  const videos = operation.response?.generatedVideos ?? [];
  const files = [];
  for (const [i, generated] of videos.entries()) {
    const downloadPath = join(outDir, `${prefix}-${i}.mp4`);
    await ai.files.download({ file: generated.video, downloadPath });
    files.push({
      uri: generated.video?.uri ?? null,
      path: downloadPath,
      size: existsSync(downloadPath) ? statSync(downloadPath).size : null,
    });
  }
  return {
    submittedName: submitted.name,
    submittedDone: submitted.done ?? null,
    states,
    error: operation.error ?? null,
    raiMediaFilteredCount: operation.response?.raiMediaFilteredCount ?? null,
    files,
  };
}

async function refused(fn) {
  try {
    await fn();
  } catch (err) {
    return describeError(err, sdk);
  }
  return { threw: false };
}

const checks = {
  // 1.30 and 2.32 send :predictLongRunning in Developer-API mode; 3.1 refuses before sending (wire.md §5b).
  async veo2_two_portrait_videos() {
    try {
      return await generateAndDownload(
        {
          model: 'veo-2.0-generate-001',
          prompt: 'A paper boat drifting down a rainy street',
          config: { numberOfVideos: 2, durationSeconds: 5, aspectRatio: '9:16', negativePrompt: 'blur' },
        },
        'veo2',
      );
    } catch (err) {
      return { refused: describeError(err, sdk) };
    }
  },
  async veo3_with_soundtrack() {
    try {
      return await generateAndDownload(
        { model: 'veo-3.0-generate-preview', prompt: 'Thunder over a wheat field, distant rumble' },
        'veo3',
      );
    } catch (err) {
      return { refused: describeError(err, sdk) };
    }
  },
  async veo2_image_to_video() {
    try {
      return await generateAndDownload(
        {
          model: 'veo-2.0-generate-001',
          prompt: 'The scene slowly comes alive',
          image: { imageBytes: FRAME, mimeType: 'image/png' },
          config: { durationSeconds: 6 },
        },
        'i2v',
      );
    } catch (err) {
      return { refused: describeError(err, sdk) };
    }
  },
  async veo3_image_is_refused() {
    return refused(() =>
      ai.models.generateVideos({
        model: 'veo-3.0-generate-preview',
        prompt: 'x',
        image: { imageBytes: FRAME, mimeType: 'image/png' },
      }),
    );
  },
  // Every version sends Veo calls in Vertex express mode; the result comes back as bytes, no download.
  async vertex_veo3_1080p() {
    const submitted = await vertex.models.generateVideos({
      model: 'veo-3.0-generate-001',
      prompt: 'Waves crashing on black rocks',
      config: { resolution: '1080p', generateAudio: true },
    });
    const { operation } = await waitFor(vertex, submitted);
    const videos = operation.response?.generatedVideos ?? [];
    const saved = videos.map((generated, i) => {
      const path = join(outDir, `vertex-${i}.mp4`);
      if (generated.video?.videoBytes) writeFileSync(path, Buffer.from(generated.video.videoBytes, 'base64'));
      return { mimeType: generated.video?.mimeType ?? null, path, hasBytes: Boolean(generated.video?.videoBytes) };
    });
    return { submittedName: submitted.name, error: operation.error ?? null, videos: saved };
  },
};

const results = await runChecks(checks, { sdk, requestLog });
emit({ alias, sdkVersion: version, checks: results });
