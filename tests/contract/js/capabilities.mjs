// Structured output, function calling, thinking and image input through one @google/genai version;
// prints one JSON object of observed facts (tests/contract/test_js_capabilities.py asserts on them).
//
//   node tests/contract/js/capabilities.mjs http://127.0.0.1:8080 genai3

import { parseArgs, loadSdk, recordRequests, runChecks, emit } from './harness.mjs';

const { baseUrl, alias } = parseArgs();
const { sdk, version } = await loadSdk(alias);
const requestLog = recordRequests();
const ai = new sdk.GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl } });

const PERSON = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 20 }, age: { type: 'integer' } },
  required: ['name', 'age'],
};
const WEATHER = {
  name: 'get_weather',
  description: 'The weather in a city',
  parametersJsonSchema: { type: 'object', properties: { city: { type: 'string', maxLength: 12 } }, required: ['city'] },
};
// A 2x2 red PNG.
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==';

const checks = {
  async json_schema() {
    const r = await ai.models.generateContent({
      model: 'gemini-2.0-flash-lite',
      contents: 'Give me a person',
      config: { responseMimeType: 'application/json', responseJsonSchema: PERSON, maxOutputTokens: 200 },
    });
    return { text: r.text, schema: PERSON };
  },
  async forced_call() {
    const r = await ai.models.generateContent({
      model: 'gemini-2.0-flash-lite',
      contents: 'Weather in Paris?',
      config: {
        tools: [{ functionDeclarations: [WEATHER] }],
        toolConfig: { functionCallingConfig: { mode: sdk.FunctionCallingConfigMode.ANY } },
        maxOutputTokens: 200,
      },
    });
    return { calls: r.functionCalls ?? [], schema: WEATHER.parametersJsonSchema };
  },
  async streamed_call_then_answer() {
    const config = { tools: [{ functionDeclarations: [WEATHER] }] };
    const chat = ai.chats.create({ model: 'scripted-tools', config });
    const calls = [];
    for await (const chunk of await chat.sendMessageStream({ message: 'Weather in Paris?' })) {
      calls.push(...(chunk.functionCalls ?? []));
    }
    const answer = await chat.sendMessage({
      message: [{ functionResponse: { name: calls[0]?.name ?? 'none', response: { result: 'sunny' } } }],
    });
    return { calls, answer: answer.text, history: chat.getHistory().length };
  },
  async thoughts() {
    const r = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Why is the sky blue?',
      config: { thinkingConfig: { includeThoughts: true, thinkingBudget: 8 }, maxOutputTokens: 40 },
    });
    const parts = r.candidates?.[0]?.content?.parts ?? [];
    return { thoughtParts: parts.filter((p) => p.thought).length, text: r.text ?? null, usage: r.usageMetadata };
  },
  async image() {
    const r = await ai.models.generateContent({
      model: 'gemini-2.0-flash',
      contents: [{ inlineData: { mimeType: 'image/png', data: PNG } }, 'Caption this image.'],
      config: { maxOutputTokens: 8 },
    });
    return { text: r.text ?? null, details: r.usageMetadata?.promptTokensDetails ?? [] };
  },
};

const results = await runChecks(checks, { sdk, requestLog });
emit({ alias, sdkVersion: version, checks: results });
