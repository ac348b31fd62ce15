import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";

import {
  APIConnectionError,
  AuthenticationError,
  Banatie,
  BanatieError,
  errorFor,
  ProviderError,
  QuotaExceededError,
  RateLimitError,
  ServiceUnavailableError,
  ValidationError,
} from "../dist/index.js";
import { baseUrl, client, env } from "./helpers.mjs";

test("an exception per error code", async () => {
  await assert.rejects(new Banatie({ apiKey: "bnt_not_a_key", baseUrl: baseUrl() }).usage(), (error) => {
    assert.ok(error instanceof AuthenticationError && error instanceof BanatieError);
    assert.deepEqual([error.status, error.code], [401, "UNAUTHORIZED"]);
    return true;
  });
  const sdk = client();
  await assert.rejects(sdk.generations.create("a fox", { aspectRatio: "7:3" }), (error) => {
    assert.ok(error instanceof ValidationError);
    assert.match(error.message, /aspect/i);
    return true;
  });
  await assert.rejects(sdk.generations.create("a portrait of @nobody-has-this"), /@nobody-has-this/);

  const exhausted = new Banatie({ apiKey: env("BANATIE_TEST_EXHAUSTED_KEY"), baseUrl: baseUrl() });
  const started = Date.now();
  await assert.rejects(exhausted.generations.create("anything"), (error) => {
    assert.ok(error instanceof QuotaExceededError);
    assert.ok(error.retryAfter > 60); // weeks away: raised at once, never waited for
    return true;
  });
  assert.ok(Date.now() - started < 5000);

  const port = await new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
  await assert.rejects(
    new Banatie({ apiKey: "bnt_x", baseUrl: `http://127.0.0.1:${port}`, maxRetries: 1 }).usage(),
    APIConnectionError,
  );
  assert.throws(() => new Banatie({ apiKey: "", baseUrl: baseUrl() }), AuthenticationError);
});

test("a rate limit is retried after Retry-After", async () => {
  const key = env("BANATIE_TEST_THROTTLED_KEY");
  const patient = new Banatie({ apiKey: key, baseUrl: baseUrl() });
  const impatient = new Banatie({ apiKey: key, baseUrl: baseUrl(), maxRetries: 0 });
  await patient.enhance("a first request uses the window");
  await assert.rejects(impatient.enhance("refused at once"), (error) => {
    assert.ok(error instanceof RateLimitError);
    assert.equal(error.code, "RATE_LIMIT_EXCEEDED");
    assert.ok(error.retryAfter >= 1 && error.retryAfter <= 3);
    return true;
  });
  const started = Date.now();
  const answer = await patient.enhance("waits for Retry-After, then succeeds");
  assert.equal(answer.originalPrompt, "waits for Retry-After, then succeeds");
  assert.ok(Date.now() - started >= 900);
});

test("a 503 is the model's or the server's own, by its code", () => {
  for (const code of ["MODEL_UNAVAILABLE", "PROVIDER_ERROR", "SOMETHING_NEW"]) {
    assert.equal(errorFor(503, code, "m").constructor, ProviderError, code);
  }
  for (const code of [
    "DATABASE_UNAVAILABLE",
    "STORAGE_UNAVAILABLE",
    "STORAGE_ERROR",
    "RATE_LIMITER_UNAVAILABLE",
    "UNAVAILABLE",
  ]) {
    const error = errorFor(503, code, "m", undefined, 2);
    assert.ok(error instanceof ServiceUnavailableError && error instanceof BanatieError, code);
    assert.deepEqual([error.status, error.code, error.retryAfter], [503, code, 2]);
  }
});
