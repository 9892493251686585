// The official `openai` SDK against switchyard (run by run_e2e.sh, which starts the mock
// upstream and the proxy and sets OPENAI_BASE_URL). The config maps gpt-4o-mini, gpt-4o and
// text-embedding-3-small through unchanged and llama3.2-3b to upstream_model llama3.2:3b.
// For routing, llama3.2-3b is tier 1 (free, no tools), gpt-4o-mini tier 2 and gpt-4o tier 3
// (both with tools); the embedding model has no tier. Profiles: auto, auto-cheap.
// The mock answers deterministically: `n` words of content with usage counting them,
// and echoes the model it was sent; x-mock-* request headers tune it per request.
//
// openai is pinned (package.json) to 6.49.0, the last release before 7.x required Node 22;
// it runs on the global fetch, and passes on Debian 12's Node 18.20 and on Node 20. Not
// 4.x: on Node 18 its node-fetch 2 keep-alive path fails streams whose whole response
// arrives in one read with a false "Premature close" (node-fetch#1767-like), which the
// fast mock triggers every time.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import OpenAI from 'openai';

const baseURL = process.env.OPENAI_BASE_URL;
if (!baseURL) throw new Error('OPENAI_BASE_URL is not set: run this through run_e2e.sh');

// The proxy's client key (run_e2e.sh configures it); the upstream gets the proxy's own key.
const apiKey = process.env.OPENAI_API_KEY;
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 15_000 });

const CHAT = 'gpt-4o-mini';
const EDGE = 'llama3.2-3b';
const EDGE_UPSTREAM = 'llama3.2:3b';
const EMBEDDING = 'text-embedding-3-small';
const messages = [{ role: 'user', content: 'Say hello in a few words.' }];

// Routing: the profiles and the tiered models of run_e2e.sh's config, with what the mock
// echoes as `model` for each (their upstream_model).
const AUTO = 'auto';
const AUTO_CHEAP = 'auto-cheap';
const STRONG = 'gpt-4o';
const TIERS = { [EDGE]: 1, [CHAT]: 2, [STRONG]: 3 };
const UPSTREAM_MODEL = { [EDGE]: EDGE_UPSTREAM, [CHAT]: CHAT, [STRONG]: STRONG };

function assertUsage(usage) {
  assert.ok(usage, 'usage is present');
  for (const key of ['prompt_tokens', 'completion_tokens', 'total_tokens']) {
    assert.equal(typeof usage[key], 'number', `usage.${key} is a number`);
    assert.ok(Number.isInteger(usage[key]) && usage[key] >= 0, `usage.${key} >= 0`);
  }
  assert.ok(usage.prompt_tokens > 0);
  assert.ok(usage.completion_tokens > 0);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
}

const words = (text) => text.trim().split(/\s+/).filter(Boolean).length;

// An error's response headers: a Headers object since openai v5, a plain record before.
const headerOf = (headers, name) =>
  typeof headers?.get === 'function' ? headers.get(name) : headers?.[name];

// Reads a chat stream to the end; returns the chunks and what they add up to.
async function collectChat(stream) {
  const chunks = [];
  let content = '';
  const finishReasons = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    assert.equal(chunk.object, 'chat.completion.chunk');
    for (const choice of chunk.choices) {
      if (typeof choice.delta?.content === 'string') content += choice.delta.content;
      if (choice.finish_reason) finishReasons.push(choice.finish_reason);
    }
  }
  return { chunks, content, finishReasons };
}

test('chat completion: content, usage and model', async () => {
  const completion = await client.chat.completions.create({ model: CHAT, messages });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.model, CHAT);
  assert.equal(typeof completion.id, 'string');
  assert.equal(completion.choices.length, 1);
  const [choice] = completion.choices;
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string');
  assert.ok(choice.message.content.length > 0, 'content is not empty');
  assert.equal(choice.finish_reason, 'stop');
  assertUsage(completion.usage);
  assert.equal(completion.usage.completion_tokens, words(choice.message.content));
});

test('chat completion: request parameters reach the upstream (max_tokens cuts it)', async () => {
  const completion = await client.chat.completions.create({ model: CHAT, messages, max_tokens: 3 });
  assert.equal(completion.choices[0].finish_reason, 'length');
  assert.equal(completion.usage.completion_tokens, 3);
  assert.equal(words(completion.choices[0].message.content), 3);
});

test('chat completion: an aliased model is sent upstream as its upstream_model', async () => {
  const completion = await client.chat.completions.create({ model: EDGE, messages });
  // The mock echoes the model it received; responses pass through unrewritten.
  assert.equal(completion.model, EDGE_UPSTREAM);
  assert.ok(completion.choices[0].message.content.length > 0);
  assertUsage(completion.usage);
});

test('streaming chat with include_usage: one final usage chunk with empty choices', async () => {
  const stream = await client.chat.completions.create({
    model: CHAT,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  const { chunks, content, finishReasons } = await collectChat(stream);
  assert.ok(chunks.length >= 3, `got ${chunks.length} chunks`);
  assert.ok(content.length > 0, 'streamed content is not empty');
  assert.deepEqual(finishReasons, ['stop']);

  const usageChunks = chunks.filter((c) => c.choices.length === 0);
  assert.equal(usageChunks.length, 1, 'exactly one chunk with empty choices');
  assert.equal(usageChunks[0], chunks.at(-1), 'the usage chunk is the last one');
  assertUsage(usageChunks[0].usage);
  assert.equal(usageChunks[0].usage.completion_tokens, words(content));
  for (const c of chunks.slice(0, -1)) assert.ok(c.usage == null, 'usage only on the last chunk');
  assert.ok(chunks.every((c) => c.id === chunks[0].id), 'one id across the stream');
});

test('streaming chat without include_usage: no usage chunk', async () => {
  const stream = await client.chat.completions.create({ model: EDGE, messages, stream: true });
  const { chunks, content, finishReasons } = await collectChat(stream);
  assert.ok(content.length > 0, 'streamed content is not empty');
  assert.deepEqual(finishReasons, ['stop']);
  assert.ok(chunks.every((c) => c.choices.length > 0), 'no chunk with empty choices');
  assert.ok(chunks.every((c) => c.usage == null), 'no chunk carries usage');
  assert.ok(chunks.every((c) => c.model === EDGE_UPSTREAM));
});

test('streaming chat: x-request-id on the response and the SDK helper stream', async () => {
  const { data: stream, response } = await client.chat.completions
    .create({ model: CHAT, messages, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/event-stream/);
  assert.ok(response.headers.get('x-request-id'), 'x-request-id on a streamed response');
  const { content } = await collectChat(stream);
  assert.ok(content.length > 0);

  // The SDK's higher-level runner assembles the same stream into a completion.
  const runner = client.chat.completions.stream({
    model: CHAT,
    messages,
    stream_options: { include_usage: true },
  });
  const final = await runner.finalChatCompletion();
  assert.ok(final.choices[0].message.content.length > 0);
  assert.equal(final.choices[0].finish_reason, 'stop');
});

test('streaming chat: a client that stops reading early leaves the proxy serving', async () => {
  const stream = await client.chat.completions.create(
    { model: CHAT, messages, stream: true },
    { headers: { 'x-mock-tokens': '200', 'x-mock-gap-ms': '5' } },
  );
  let seen = 0;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) seen += 1;
    if (seen === 2) break; // aborts the request
  }
  assert.equal(seen, 2);
  const after = await client.chat.completions.create({ model: CHAT, messages });
  assert.ok(after.choices[0].message.content.length > 0);
});

test('concurrent chat completions all succeed', async () => {
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      client.chat.completions.create({
        model: i % 2 ? CHAT : EDGE,
        messages: [{ role: 'user', content: `request ${i}` }],
        stream: i % 3 === 0,
      }),
    ),
  );
  for (const [i, result] of results.entries()) {
    if (i % 3 === 0) {
      const { content } = await collectChat(result);
      assert.ok(content.length > 0, `stream ${i} has content`);
    } else {
      assert.ok(result.choices[0].message.content.length > 0, `completion ${i} has content`);
    }
  }
});

test('legacy completions', async () => {
  const completion = await client.completions.create({ model: CHAT, prompt: 'Once upon a time' });
  assert.equal(completion.object, 'text_completion');
  assert.equal(completion.model, CHAT);
  assert.equal(completion.choices.length, 1);
  assert.equal(typeof completion.choices[0].text, 'string');
  assert.ok(completion.choices[0].text.length > 0);
  assert.ok(['stop', 'length'].includes(completion.choices[0].finish_reason));
  assertUsage(completion.usage);
});

test('legacy completions, streamed', async () => {
  const stream = await client.completions.create({ model: EDGE, prompt: 'Once', stream: true });
  let text = '';
  let finished = 0;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'text_completion');
    for (const choice of chunk.choices) {
      text += choice.text ?? '';
      if (choice.finish_reason) finished += 1;
    }
  }
  assert.ok(text.length > 0, 'streamed text is not empty');
  assert.equal(finished, 1);
});

test('embeddings: float, SDK-default base64 (decoded), explicit base64', async () => {
  const input = 'The quick brown fox';
  const asFloat = await client.embeddings.create({ model: EMBEDDING, input, encoding_format: 'float' });
  assert.equal(asFloat.object, 'list');
  assert.equal(asFloat.data.length, 1);
  const vector = asFloat.data[0].embedding;
  assert.ok(Array.isArray(vector) && vector.length > 0, 'a non-empty float array');
  assert.ok(vector.every((x) => typeof x === 'number' && Number.isFinite(x)));
  assert.ok(asFloat.usage.prompt_tokens > 0);

  // Without encoding_format the SDK asks for base64 and decodes it to numbers itself.
  const byDefault = await client.embeddings.create({ model: EMBEDDING, input });
  const decoded = byDefault.data[0].embedding;
  assert.ok(Array.isArray(decoded), 'the SDK decoded base64 into an array');
  assert.equal(decoded.length, vector.length);
  for (let i = 0; i < vector.length; i++) assert.ok(Math.abs(decoded[i] - vector[i]) < 1e-6);

  // Asked for explicitly, base64 comes back as the string: little-endian float32s.
  const asBase64 = await client.embeddings.create({ model: EMBEDDING, input, encoding_format: 'base64' });
  const b64 = asBase64.data[0].embedding;
  assert.equal(typeof b64, 'string');
  const bytes = Buffer.from(b64, 'base64');
  assert.equal(bytes.length, vector.length * 4);
  assert.ok(Math.abs(bytes.readFloatLE(0) - vector[0]) < 1e-6);
});

test('embeddings: several inputs and dimensions', async () => {
  const result = await client.embeddings.create({
    model: EMBEDDING,
    input: ['one', 'two', 'three'],
    dimensions: 8,
  });
  assert.deepEqual(result.data.map((d) => d.index), [0, 1, 2]);
  for (const d of result.data) assert.equal(d.embedding.length, 8);
});

test('models.list() and models.retrieve()', async () => {
  const ids = [];
  for await (const model of client.models.list()) {
    assert.equal(model.object, 'model');
    ids.push(model.id);
  }
  for (const id of [CHAT, EDGE, EMBEDDING]) assert.ok(ids.includes(id), `${id} in ${ids}`);

  const model = await client.models.retrieve(CHAT);
  assert.equal(model.id, CHAT);
  assert.equal(model.object, 'model');
  assert.equal((await client.models.retrieve(EDGE)).id, EDGE, 'the public name, not the alias');
});

test('an unknown model is a 404 the SDK raises as NotFoundError (model_not_found)', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages }),
    (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      assert.equal(err.type, 'invalid_request_error');
      assert.match(err.message, /no-such-model/);
      assert.ok(headerOf(err.headers, 'x-request-id'), 'x-request-id on an error response');
      return true;
    },
  );
  await assert.rejects(client.models.retrieve('no-such-model'), (err) => {
    assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
    return true;
  });
  await assert.rejects(client.embeddings.create({ model: 'no-such-model', input: 'x' }), OpenAI.NotFoundError);
});

test('an unknown path is an OpenAI-shaped 404', async () => {
  await assert.rejects(client.get('/no/such/path'), (err) => {
    assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 404);
    assert.equal(typeof err.error?.message, 'string', 'an {"error":{"message":...}} body');
    return true;
  });
});

test('every response carries an x-request-id', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: CHAT, messages })
    .withResponse();
  const id = response.headers.get('x-request-id');
  assert.ok(id, 'x-request-id header present');
  assert.equal(data._request_id, id, 'the SDK exposes it as _request_id');

  const raw = await client.models.list().asResponse();
  assert.equal(raw.status, 200);
  assert.ok(raw.headers.get('x-request-id'));
  const other = (await client.chat.completions.create({ model: CHAT, messages }).withResponse()).response;
  assert.notEqual(other.headers.get('x-request-id'), id, 'a fresh id per request');
});

test("a client's x-request-id comes back unchanged", async () => {
  const mine = `e2e-${process.pid}-${Date.now()}`;
  const headers = { 'x-request-id': mine };

  const chat = await client.chat.completions.create({ model: CHAT, messages }, { headers }).withResponse();
  assert.equal(chat.response.headers.get('x-request-id'), mine);

  const streamed = await client.chat.completions
    .create({ model: EDGE, messages, stream: true }, { headers })
    .withResponse();
  assert.equal(streamed.response.headers.get('x-request-id'), mine);
  await collectChat(streamed.data);

  const embedded = await client.embeddings.create({ model: EMBEDDING, input: 'x' }, { headers }).asResponse();
  assert.equal(embedded.headers.get('x-request-id'), mine);

  const models = await client.models.list({ headers }).asResponse();
  assert.equal(models.headers.get('x-request-id'), mine);

  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages }, { headers }),
    (err) => err instanceof OpenAI.NotFoundError && headerOf(err.headers, 'x-request-id') === mine,
  );
});

test('an x-request-id that is not a sane token is replaced', async () => {
  const tooLong = 'x'.repeat(200);
  const { response } = await client.chat.completions
    .create({ model: CHAT, messages }, { headers: { 'x-request-id': tooLong } })
    .withResponse();
  const id = response.headers.get('x-request-id');
  assert.ok(id && id !== tooLong, `replaced, got ${id}`);
});

// ---- routing: model "auto" ----

// The x-switchyard-* headers of a routed response; checks they are consistent.
function routedTo(headers) {
  const model = headers.get('x-switchyard-model');
  assert.ok(model in TIERS, `x-switchyard-model names a tiered model, got ${model}`);
  assert.equal(headers.get('x-switchyard-upstream'), 'mock');
  const tier = headers.get('x-switchyard-tier');
  assert.match(tier ?? '', /^\d+$/, `x-switchyard-tier is a number, got ${tier}`);
  assert.equal(Number(tier), TIERS[model], `x-switchyard-tier is ${model}'s tier`);
  const score = Number(headers.get('x-switchyard-score'));
  assert.ok(score >= 0 && score <= 1, `x-switchyard-score in [0, 1], got ${headers.get('x-switchyard-score')}`);
  return model;
}

// POST /v1/route/explain with plain fetch (the SDK has no method for it).
async function explain(body, headers = {}) {
  const response = await fetch(`${baseURL}/route/explain`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...headers },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, `explain answered ${response.status}`);
  assert.match(response.headers.get('content-type'), /^application\/json/);
  const decision = await response.json();
  assert.equal(decision.profile, body.model);
  assert.equal(typeof decision.score, 'number');
  assert.ok(Number.isInteger(decision.required_tier) && decision.required_tier >= 1);
  assert.ok(Array.isArray(decision.candidates));
  assert.deepEqual(decision.candidates.map((c) => c.model).sort(), Object.keys(TIERS).sort(),
    'every tiered model is a candidate; the tierless embedding model is not');
  for (const c of decision.candidates) {
    assert.equal(c.upstream, 'mock');
    assert.equal(c.tier, TIERS[c.model]);
    assert.equal(typeof c.kept, 'boolean');
    assert.equal(typeof c.expected_cost_usd, 'number');
    if (c.kept) assert.equal(c.dropped, undefined, `${c.model} kept without a drop reason`);
    else assert.equal(typeof c.dropped, 'string', `${c.model} dropped with a reason`);
  }
  const kept = decision.candidates.filter((c) => c.kept).map((c) => c.model);
  assert.ok(Array.isArray(decision.fallbacks));
  if (kept.length) {
    assert.equal(decision.choice, kept[0], 'the choice is the first (cheapest) kept candidate');
    assert.deepEqual(decision.fallbacks, kept.slice(1, 3), 'the next kept ones are the fallbacks');
  } else {
    assert.equal(decision.choice, null);
    assert.deepEqual(decision.fallbacks, []);
  }
  return decision;
}

test('routing: chat with model "auto" goes to a tiered model and says which', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: AUTO, messages })
    .withResponse();
  assert.equal(response.status, 200);
  const model = routedTo(response.headers);
  assert.equal(data.model, UPSTREAM_MODEL[model], 'the mock got the chosen model\'s upstream_model');
  assert.ok(data.choices[0].message.content.length > 0);
  assertUsage(data.usage);
  assert.ok(response.headers.get('x-request-id'));

  // The same request, explained, chooses the same model (the classifier is deterministic and
  // the models' costs differ).
  const decision = await explain({ model: AUTO, messages });
  assert.equal(decision.choice, model);
  assert.ok(TIERS[model] >= decision.required_tier);
});

test('routing: models named explicitly carry no x-switchyard-* headers', async () => {
  const { response } = await client.chat.completions.create({ model: CHAT, messages }).withResponse();
  assert.equal(response.headers.get('x-switchyard-model'), null);
});

test('routing: streaming chat through "auto" with include_usage', async () => {
  const { data: stream, response } = await client.chat.completions
    .create({ model: AUTO, messages, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/event-stream/);
  const model = routedTo(response.headers);
  const { chunks, content, finishReasons } = await collectChat(stream);
  assert.ok(content.length > 0, 'streamed content is not empty');
  assert.deepEqual(finishReasons, ['stop']);
  const usageChunks = chunks.filter((c) => c.choices.length === 0);
  assert.equal(usageChunks.length, 1, 'exactly one chunk with empty choices');
  assert.equal(usageChunks[0], chunks.at(-1), 'the usage chunk is the last one');
  assertUsage(usageChunks[0].usage);
  assert.equal(usageChunks[0].usage.completion_tokens, words(content));
  assert.ok(chunks.every((c) => c.model === UPSTREAM_MODEL[model]));
});

test('routing: x-switchyard-min-tier: 3 lands on the tier-3 model', async () => {
  const headers = { 'x-switchyard-min-tier': '3' };
  const { data, response } = await client.chat.completions
    .create({ model: AUTO, messages }, { headers })
    .withResponse();
  assert.equal(routedTo(response.headers), STRONG);
  assert.equal(response.headers.get('x-switchyard-tier'), '3');
  assert.equal(data.model, STRONG);

  const streamed = await client.chat.completions
    .create({ model: AUTO, messages, stream: true }, { headers })
    .withResponse();
  assert.equal(routedTo(streamed.response.headers), STRONG);
  assert.ok((await collectChat(streamed.data)).content.length > 0);

  const decision = await explain({ model: AUTO, messages }, headers);
  assert.equal(decision.required_tier, 3);
  assert.equal(decision.choice, STRONG);
  for (const c of decision.candidates.filter((c) => c.model !== STRONG)) {
    assert.equal(c.kept, false, `${c.model} is dropped at tier 3`);
    assert.equal(c.dropped, 'tier below the required tier');
  }
});

test('routing: a bad x-switchyard-min-tier, or one no model reaches, is a 400', async () => {
  for (const value of ['zero', '0', '2x']) {
    await assert.rejects(
      client.chat.completions.create({ model: AUTO, messages }, { headers: { 'x-switchyard-min-tier': value } }),
      (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `${value}: got ${err?.constructor?.name}: ${err}`);
        assert.equal(err.code, 'invalid_header');
        return true;
      },
    );
  }
  await assert.rejects(
    client.chat.completions.create({ model: AUTO, messages }, { headers: { 'x-switchyard-min-tier': '4' } }),
    (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.code, 'no_model_available');
      return true;
    },
  );
});

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

test('routing: a request with tools never lands on the model without tool support', async () => {
  const body = { model: AUTO, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool] };
  for (const stream of [false, true]) {
    const { data, response } = await client.chat.completions.create({ ...body, stream }).withResponse();
    const model = routedTo(response.headers);
    assert.notEqual(model, EDGE, `stream=${stream}: tools went to ${model}`);
    if (stream) await collectChat(data);
  }
  const decision = await explain(body);
  const edge = decision.candidates.find((c) => c.model === EDGE);
  assert.equal(edge.kept, false, 'llama3.2-3b is dropped for a request with tools');
  if (decision.required_tier <= 1) assert.equal(edge.dropped, 'no tool support');
  assert.notEqual(decision.choice, EDGE);
  assert.ok([CHAT, STRONG].includes(decision.choice), `choice ${decision.choice}`);
});

test('routing: models.list() includes the profiles, owned by switchyard', async () => {
  const byId = new Map();
  for await (const model of client.models.list()) byId.set(model.id, model);
  for (const id of [AUTO, AUTO_CHEAP]) {
    assert.ok(byId.has(id), `${id} in ${[...byId.keys()]}`);
    assert.equal(byId.get(id).object, 'model');
    assert.equal(byId.get(id).owned_by, 'switchyard');
  }
  for (const id of [CHAT, STRONG, EDGE, EMBEDDING]) assert.ok(byId.has(id), `${id} listed`);
});

test('routing: /v1/route/explain returns the decision', async () => {
  const body = { model: AUTO, messages };
  const decision = await explain(body);
  assert.ok(decision.choice in TIERS, `choice ${decision.choice} is a configured model`);
  assert.ok(decision.candidates.some((c) => c.kept), 'some candidate is kept');
  assert.ok(decision.score >= 0 && decision.score <= 1);
  for (const c of decision.candidates)
    if (c.tier < decision.required_tier) assert.equal(c.dropped, 'tier below the required tier');

  // auto-cheap's thresholds are higher: the same score never needs a higher tier there.
  const cheap = await explain({ ...body, model: AUTO_CHEAP });
  assert.equal(cheap.score, decision.score);
  assert.ok(cheap.required_tier <= decision.required_tier);

  // A model that is not a profile cannot be explained.
  const response = await fetch(`${baseURL}/route/explain`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ model: CHAT, messages }),
  });
  assert.equal(response.status, 404);
  assert.equal(typeof (await response.json()).error?.message, 'string');
});

test('routing: concurrent "auto" requests all succeed', async () => {
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      client.chat.completions
        .create({ model: i % 2 ? AUTO : AUTO_CHEAP, messages: [{ role: 'user', content: `request ${i}` }] })
        .withResponse(),
    ),
  );
  for (const { data, response } of results) {
    const model = routedTo(response.headers);
    assert.equal(data.model, UPSTREAM_MODEL[model]);
    assert.ok(data.choices[0].message.content.length > 0);
  }
});

// ---- keys and budgets ----

async function counter(series) {
  const text = await (await fetch(new URL('/metrics', baseURL))).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.split(' ')[1]) : 0;
}

test('keys: an unknown key is a 401 the SDK raises as AuthenticationError', async () => {
  const stranger = new OpenAI({ baseURL, apiKey: 'sk-not-configured-0000', maxRetries: 0 });
  await assert.rejects(stranger.chat.completions.create({ model: CHAT, messages }), (err) => {
    assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err?.constructor?.name}`);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_api_key');
    assert.ok(!err.message.includes('sk-not-configured-0000'), 'the key is not echoed');
    return true;
  });
});

test('budgets: an exhausted budget is a 429 budget_exceeded that the SDK does not retry', async () => {
  const tight = new OpenAI({ baseURL, apiKey: process.env.E2E_TIGHT_KEY, maxRetries: 2 });
  const series = 'switchyard_http_requests_total{route="chat_completions",status_class="4xx"}';
  const before = await counter(series);
  await assert.rejects(tight.chat.completions.create({ model: AUTO, messages }), (err) => {
    assert.ok(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}`);
    assert.equal(err.code, 'budget_exceeded');
    assert.equal(err.type, 'insufficient_quota');
    assert.match(err.message, /daily budget of tenant 'tight'/);
    return true;
  });
  assert.equal(await counter(series), before + 1, 'x-should-retry: false kept the SDK from retrying');
});
