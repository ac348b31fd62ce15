import assert from "node:assert/strict";
import { test } from "node:test";

import { Banatie } from "../dist/index.js";
import { baseUrl, client, env, pngSize } from "./helpers.mjs";

test("image URLs: built without a request, signed so that the server accepts them", async () => {
  const sdk = client();
  const made = await sdk.generations.create("a paper boat", { aspectRatio: "3:2" });
  const image = made.outputImage;

  assert.equal(await sdk.images.url(image.id, { w: 150, sign: false }), `${baseUrl()}/cdn/default/main/img/${image.id}?w=150`);
  assert.equal(await sdk.images.url(image, { sign: false }), image.storageUrl);

  const signed = await sdk.images.url(image, { w: 100, h: 100, mode: "crop", format: "png", expiresIn: 600 });
  assert.match(signed, /[?&]exp=\d+&sig=/);
  const answer = await fetch(signed);
  assert.equal(answer.status, 200, await answer.clone().text());
  assert.deepEqual(pngSize(new Uint8Array(await answer.arrayBuffer())), [100, 100]);

  const tampered = await fetch(signed.replace("w=100", "w=101"));
  assert.equal(tampered.status, 400);
  assert.equal((await tampered.json()).error.details.param, "sig");

  const gravity = await sdk.images.download(image, { w: 60, h: 60, mode: "crop", gravity: [50, 30], format: "png" });
  assert.deepEqual(pngSize(gravity), [60, 60]);

  // Empty options win over the environment (which the test runner fills in).
  const unsigning = new Banatie({ apiKey: "bnt_x", baseUrl: baseUrl(), signingKey: "", organization: "" });
  await assert.rejects(unsigning.images.url(image, { sign: true }), /signingKey/);
  await assert.rejects(unsigning.images.url(image.id), /organization/);
});

test("live scopes and live URLs, signed with the project's secret", async () => {
  const sdk = client();
  const scope = await sdk.live.scopes.create("js-landing", { newGenerationsLimit: 5 });
  assert.equal(scope.currentGenerations, 0);

  const url = await sdk.live.url("js-landing", "a lighthouse at dusk", { aspectRatio: "16:9", w: 320, format: "png" });
  const first = await fetch(url);
  assert.equal(first.status, 200, await first.clone().text());
  assert.equal(first.headers.get("x-cache-status"), "MISS");
  assert.deepEqual(pngSize(new Uint8Array(await first.arrayBuffer())), [320, 183]);
  assert.equal((await fetch(url)).headers.get("x-cache-status"), "HIT");

  const images = [];
  for await (const image of sdk.live.scopes.images("js-landing")) images.push(image);
  assert.deepEqual(images.map((i) => [i.prompt, i.status]), [["a lighthouse at dusk", "ready"]]);
  const slugs = [];
  for await (const s of sdk.live.scopes.list({ pageSize: 1 })) slugs.push(s.slug);
  assert.ok(slugs.includes("js-landing"));

  assert.equal((await sdk.live.scopes.update("js-landing", { allowNewGenerations: false })).allowNewGenerations, false);
  assert.equal((await fetch(await sdk.live.url("js-landing", "something else"))).status, 403);
  const regenerated = await sdk.live.scopes.regenerate("js-landing");
  assert.equal(regenerated.regenerated.length, 1);
  const built = await sdk.live.createUrl("js-landing", "a lighthouse at dusk", { aspectRatio: "16:9" });
  assert.equal(new URL(built.url).pathname, new URL(url).pathname);
  assert.equal((await sdk.live.scopes.deleteImage("js-landing", images[0].id)).deleted, true);
  assert.equal((await sdk.live.scopes.delete("js-landing")).deleted, true);

  const settings = await sdk.live.updateSettings({ rotateSigningSecret: true, requireSignature: true });
  try {
    const signer = client({ liveSigningSecret: settings.signingSecret });
    const signed = await signer.live.url("js-signed", "a kite over the sea", { expiresIn: 300, w: 64, format: "png" });
    const ok = await fetch(signed);
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal(pngSize(new Uint8Array(await ok.arrayBuffer()))[0], 64);
    const unsigned = await fetch(await signer.live.url("js-signed", "another kite", { sign: false }));
    assert.equal((await unsigned.json()).error.code, "SIGNATURE_REQUIRED");
    const forged = await fetch(signed.replace("kite", "kites"));
    assert.equal((await forged.json()).error.code, "INVALID_SIGNATURE");
  } finally {
    await sdk.live.updateSettings({ requireSignature: false });
  }
  assert.equal(env("BANATIE_ORGANIZATION"), "default");
});
