// The official `openai` npm client against `weft serve`: chat and completions, whole
// and streamed, plus an API error surfacing as the client's typed error.
// Usage: node openai_client.test.mjs <path of weft>
import assert from "node:assert/strict";
import { importOrSkip, startWeft } from "./weft_server.mjs";

const { default: OpenAI } = await importOrSkip("openai");
const server = await startWeft(process.argv[2], ["--api-key", "test-key"]);
try {
  const client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "test-key", maxRetries: 0 });

  const models = await client.models.list();
  assert.equal(models.data[0].id, "weft");

  const chat = await client.chat.completions.create({
    model: "weft", messages: [{ role: "user", content: "Hello" }], max_tokens: 10, temperature: 0,
  });
  assert.equal(chat.object, "chat.completion");
  assert.equal(chat.choices[0].message.role, "assistant");
  assert.equal(typeof chat.choices[0].message.content, "string");
  assert.ok(["stop", "length"].includes(chat.choices[0].finish_reason));
  assert.equal(chat.usage.total_tokens, chat.usage.prompt_tokens + chat.usage.completion_tokens);

  // Greedy streaming must give the same text as the greedy whole response.
  const stream = await client.chat.completions.create({
    model: "weft", messages: [{ role: "user", content: "Hello" }], max_tokens: 10, temperature: 0, stream: true,
  });
  let text = "", chunks = 0, finish = null;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, "chat.completion.chunk");
    text += chunk.choices[0]?.delta?.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.ok(chunks >= 2, "expected several chunks");
  assert.equal(text, chat.choices[0].message.content);
  assert.equal(finish, chat.choices[0].finish_reason);

  const comp = await client.completions.create({ model: "weft", prompt: "Once upon", max_tokens: 8, temperature: 0 });
  assert.equal(comp.object, "text_completion");
  const cstream = await client.completions.create({
    model: "weft", prompt: "Once upon", max_tokens: 8, temperature: 0, stream: true,
  });
  let ctext = "";
  for await (const chunk of cstream) ctext += chunk.choices[0]?.text ?? "";
  assert.equal(ctext, comp.choices[0].text);

  await assert.rejects(
    client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }),
    (e) => e.status === 404 && e.code === "model_not_found");
  const bad = new OpenAI({ baseURL: server.url + "/v1", apiKey: "wrong", maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e) => e.status === 401);
  console.log(`openai client OK: chat "${text.slice(0, 40)}" (${chunks} chunks), completion "${ctext.slice(0, 40)}"`);
} finally {
  server.stop();
}
