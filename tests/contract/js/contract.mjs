// Drives one version of the official @google/genai SDK against a live genserve server and prints
// one JSON object of observed facts per check. tests/contract/test_js_sdk.py asserts on them.
//
//   node tests/contract/js/contract.mjs http://127.0.0.1:8080 genai3
//
// The same calls are made on every SDK version; all three versions (1.30.0, 2.32.0, 3.1.0) expose
// models.generateContent / generateContentStream / countTokens / embedContent / list / get and
// chats.create / sendMessage / sendMessageStream / getHistory with the same parameter shapes, so
// no per-version adaptation is needed. The only per-version difference is the default API
// version in the URL (3.x: /v1, 2.x and 1.30: /v1beta), which the Python side asserts.

import { parseArgs, loadSdk, recordRequests, runChecks, describeError, emit, norm } from './harness.mjs';

const { baseUrl, alias } = parseArgs();
const { sdk, version } = await loadSdk(alias);
const requestLog = recordRequests();
const ai = new sdk.GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });

const CHAT_MODEL = 'gemini-2.0-flash';

function summary(response) {
  const cand = response.candidates?.[0];
  return {
    text: response.text ?? null,
    finishReason: cand?.finishReason ?? null,
    role: cand?.content?.role ?? null,
    usageMetadata: response.usageMetadata ?? null,
    modelVersion: response.modelVersion ?? null,
    responseId: response.responseId ?? null,
    candidateCount: response.candidates?.length ?? 0,
  };
}

async function expectRejection(promiseFn) {
  try {
    const value = await promiseFn();
    return { threw: false, value: JSON.parse(JSON.stringify(value ?? null)) };
  } catch (err) {
    return describeError(err, sdk);
  }
}

function historySummary(history) {
  return history.map((c) => ({ role: c.role ?? null, text: (c.parts ?? []).map((p) => p.text ?? '').join(''), parts: (c.parts ?? []).length }));
}

const checks = {
  async generate_scripted() {
    const response = await ai.models.generateContent({ model: 'scripted', contents: 'hi' });
    return summary(response);
  },

  async generate_max_tokens() {
    const request = {
      model: CHAT_MODEL,
      contents: 'Tell me a long story about a dragon.',
      config: { maxOutputTokens: 5, temperature: 0, systemInstruction: 'be terse' },
    };
    const before = requestLog.length;
    const first = await ai.models.generateContent(request);
    const second = await ai.models.generateContent(request);
    return { first: summary(first), second: summary(second), sentBody: requestLog[before]?.body ?? null };
  },

  async generate_seeded() {
    const run = async (seed) =>
      summary(
        await ai.models.generateContent({
          model: CHAT_MODEL,
          contents: 'Write something random.',
          config: { maxOutputTokens: 24, temperature: 1, seed },
        }),
      );
    return { a: await run(1234), b: await run(1234), other: await run(98765) };
  },

  async stream_scripted() {
    const stream = await ai.models.generateContentStream({ model: 'scripted', contents: 'hi' });
    const chunks = [];
    for await (const chunk of stream) chunks.push(summary(chunk));
    return { chunks, text: chunks.map((c) => c.text ?? '').join('') };
  },

  async stream_fails() {
    const chunks = [];
    let error = { threw: false };
    try {
      const stream = await ai.models.generateContentStream({ model: 'scripted-fails', contents: 'hi' });
      for await (const chunk of stream) chunks.push(summary(chunk));
    } catch (err) {
      error = describeError(err, sdk);
    }
    return { chunks, error };
  },

  async stream_unknown_model() {
    // An error before the first chunk is a plain HTTP error: the call itself rejects.
    const chunks = [];
    const error = await expectRejection(async () => {
      const stream = await ai.models.generateContentStream({ model: 'no-such-model', contents: 'hi' });
      for await (const chunk of stream) chunks.push(summary(chunk));
    });
    return { chunks, error };
  },

  async chat() {
    const chat = ai.chats.create({ model: CHAT_MODEL, config: { maxOutputTokens: 8 } });
    const turns = [];
    const sentContents = [];
    const lengths = [chat.getHistory().length];
    const trackSent = (before) => {
      const body = requestLog.slice(before).find((r) => r.body)?.body;
      sentContents.push(body?.contents?.map((c) => c.role ?? null) ?? null);
    };

    for (const message of ['Hello there', 'How are you?']) {
      const before = requestLog.length;
      const response = await chat.sendMessage({ message });
      trackSent(before);
      turns.push({ kind: 'send', ...summary(response) });
      lengths.push(chat.getHistory().length);
    }

    let before = requestLog.length;
    const stream = await chat.sendMessageStream({ message: 'Stream something' });
    const streamed = [];
    for await (const chunk of stream) streamed.push(summary(chunk));
    trackSent(before);
    turns.push({ kind: 'stream', chunks: streamed, text: streamed.map((c) => c.text ?? '').join('') });
    lengths.push(chat.getHistory().length);

    before = requestLog.length;
    const last = await chat.sendMessage({ message: 'One more' });
    trackSent(before);
    turns.push({ kind: 'send', ...summary(last) });
    lengths.push(chat.getHistory().length);

    return {
      turns,
      historyLengths: lengths,
      history: historySummary(chat.getHistory()),
      curatedHistory: historySummary(chat.getHistory(true)),
      sentContents,
    };
  },

  async count_tokens() {
    const contents = 'How does AI work?';
    const response = await ai.models.countTokens({ model: CHAT_MODEL, contents });
    // The same contents through generateContent: its promptTokenCount should be the same number.
    const generated = await ai.models.generateContent({ model: CHAT_MODEL, contents, config: { maxOutputTokens: 1 } });
    return {
      totalTokens: response.totalTokens ?? null,
      promptTokenCountOfSameContents: generated.usageMetadata?.promptTokenCount ?? null,
    };
  },

  async embed() {
    const response = await ai.models.embedContent({
      model: 'gemini-embedding-001',
      contents: ['a', 'b'],
      config: { outputDimensionality: 8 },
    });
    const embeddings = (response.embeddings ?? []).map((e) => ({ length: e.values?.length ?? 0, norm: norm(e.values ?? []), values: e.values }));
    return { count: embeddings.length, embeddings };
  },

  async list_models() {
    const names = [];
    const pager = await ai.models.list();
    for await (const model of pager) names.push(model.name);
    // A small page size forces the pager to follow nextPageToken.
    const pagedNames = [];
    const before = requestLog.length;
    const paged = await ai.models.list({ config: { pageSize: 5 } });
    for await (const model of paged) pagedNames.push(model.name);
    return { names, pagedNames, pagedRequests: requestLog.length - before };
  },

  async get_model() {
    const model = await ai.models.get({ model: CHAT_MODEL });
    const embedder = await ai.models.get({ model: 'gemini-embedding-001' });
    return { model: JSON.parse(JSON.stringify(model)), embedder: JSON.parse(JSON.stringify(embedder)) };
  },

  async error_unknown_model() {
    return {
      generate: await expectRejection(() => ai.models.generateContent({ model: 'no-such-model', contents: 'hi' })),
      get: await expectRejection(() => ai.models.get({ model: 'no-such-model' })),
    };
  },

  async error_max_tokens_zero() {
    return await expectRejection(() =>
      ai.models.generateContent({ model: CHAT_MODEL, contents: 'hi', config: { maxOutputTokens: 0 } }),
    );
  },
};

const results = await runChecks(checks, { sdk, requestLog });
emit({ alias, sdkVersion: version, baseUrl, checks: results });
