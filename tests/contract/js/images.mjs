// Image generation through one @google/genai version: Imagen generateImages (Developer API and Vertex express),
// Gemini-native image output (text + image parts, an edit of an input picture, a chat that edits its last image);
// prints one JSON object of observed facts (tests/contract/test_js_images.py asserts on them).
//
//   node tests/contract/js/images.mjs http://127.0.0.1:8080 genai130 /path/to/a-200x100.png

import { readFileSync } from 'node:fs';
import { parseArgs, loadSdk, recordRequests, runChecks, emit, describeError, fail } from './harness.mjs';

const { baseUrl, alias } = parseArgs();
const inputPath = process.argv[4];
if (!inputPath) fail('usage: node images.mjs <baseUrl> <sdkAlias> <a PNG to edit>');
const INPUT = readFileSync(inputPath).toString('base64');
const { sdk, version } = await loadSdk(alias);
const requestLog = recordRequests();
const ai = new sdk.GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });
// Vertex express mode: an API key and no project; the SDK sends /v1beta1/publishers/google/models/{m}:predict.
const vertex = new sdk.GoogleGenAI({ vertexai: true, apiKey: 'test-key', httpOptions: { baseUrl } });
const IMAGEN = { model: 'imagen-3.0-generate-002', prompt: 'A lighthouse at night', config: { numberOfImages: 3, aspectRatio: '9:16' } };
const CHAT_MODEL = 'gemini-2.0-flash-preview-image-generation';
const TEXT_AND_IMAGE = { responseModalities: [sdk.Modality.TEXT, sdk.Modality.IMAGE] };

// Width and height from a PNG's IHDR chunk (bytes 16-23), or null for anything else.
function pngSize(b64) {
  const bytes = Buffer.from(b64 ?? '', 'base64');
  if (bytes.length < 24 || bytes.toString('latin1', 1, 4) !== 'PNG') return null;
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

function describeImages(response) {
  return (response.generatedImages ?? []).map((g) => ({
    mimeType: g.image?.mimeType ?? null,
    size: pngSize(g.image?.imageBytes),
    data: g.image?.imageBytes ?? null,
    raiFilteredReason: g.raiFilteredReason ?? null,
  }));
}

function describeParts(response) {
  const parts = response.candidates?.[0]?.content?.parts ?? [];
  return parts.map((p) =>
    p.inlineData
      ? { kind: 'image', mimeType: p.inlineData.mimeType, size: pngSize(p.inlineData.data), data: p.inlineData.data }
      : { kind: p.text !== undefined ? 'text' : 'other', text: p.text ?? null },
  );
}

const checks = {
  // @google/genai 1.30 still sends :predict in Developer-API mode; 2.x and 3.x refuse before sending (wire.md §5a).
  async imagen_developer_api() {
    try {
      return { images: describeImages(await ai.models.generateImages(IMAGEN)) };
    } catch (err) {
      return { refused: describeError(err, sdk) };
    }
  },
  async imagen_vertex_express() {
    return { images: describeImages(await vertex.models.generateImages(IMAGEN)) };
  },
  async text_and_image() {
    const r = await ai.models.generateContent({
      model: CHAT_MODEL,
      contents: 'Write one sentence about a red kite, then draw it.',
      config: TEXT_AND_IMAGE,
    });
    return { parts: describeParts(r), finishReason: r.candidates?.[0]?.finishReason ?? null };
  },
  async edit_input_image() {
    const r = await ai.models.generateContent({
      model: CHAT_MODEL,
      contents: [{ text: 'Add a llama next to the tree.' }, { inlineData: { mimeType: 'image/png', data: INPUT } }],
      config: TEXT_AND_IMAGE,
    });
    return { parts: describeParts(r), inputSize: pngSize(INPUT) };
  },
  async chat_edits_its_picture() {
    const chat = ai.chats.create({ model: CHAT_MODEL, config: TEXT_AND_IMAGE });
    const first = await chat.sendMessage({ message: 'draw a blue car' });
    const before = requestLog.length;
    const second = await chat.sendMessage({ message: 'make it yellow' });
    // What the SDK sent on the second turn: the model's first reply (with its picture) must be in the history.
    const sent = requestLog.slice(before).find((e) => e.path.endsWith(':generateContent'))?.body?.contents ?? [];
    return {
      first: describeParts(first),
      second: describeParts(second),
      secondTurnRoles: sent.map((c) => c.role),
      secondTurnModelImages: sent
        .filter((c) => c.role === 'model')
        .flatMap((c) => c.parts ?? [])
        .filter((p) => p.inlineData).length,
    };
  },
  async image_only_output() {
    const r = await ai.models.generateContent({
      model: 'gemini-2.5-flash-image',
      contents: 'A lighthouse',
      config: { responseModalities: [sdk.Modality.IMAGE] },
    });
    return { parts: describeParts(r) };
  },
  async image_only_refused_by_2_0() {
    try {
      await ai.models.generateContent({
        model: CHAT_MODEL,
        contents: 'A lighthouse',
        config: { responseModalities: [sdk.Modality.IMAGE] },
      });
    } catch (err) {
      return describeError(err, sdk);
    }
    return { threw: false };
  },
};

const results = await runChecks(checks, { sdk, requestLog });
emit({ alias, sdkVersion: version, checks: results });
