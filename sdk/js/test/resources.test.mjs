import assert from "node:assert/strict";
import { test } from "node:test";

import { NotFoundError } from "../dist/index.js";
import { client, pngSize } from "./helpers.mjs";

test("generations: create, get, list across pages, regenerate, delete", async () => {
  const sdk = client();
  const fox = await sdk.generations.create("a red fox in a snowy forest", {
    aspectRatio: "16:9",
    template: "illustration",
    alias: "@js-fox",
  });
  assert.equal(fox.status, "success");
  assert.deepEqual([fox.outputImage.width, fox.outputImage.height], [1344, 768]);
  assert.equal(fox.outputImage.alias, "@js-fox");
  assert.equal((await sdk.generations.get(fox.id)).prompt, fox.prompt);

  const night = await sdk.generations.create("the same scene at night", {
    flowId: fox.flowId,
    referenceImages: [fox.outputImage],
  });
  assert.equal(night.flowId, fox.flowId);
  assert.deepEqual(night.referencedImages.map((r) => r.id), [fox.outputImage.id]);
  const loose = await sdk.generations.create("a lone pine", { flowId: null, autoEnhance: false });
  assert.equal(loose.flowId, null);

  const seen = [];
  for await (const g of sdk.generations.list({ flowId: fox.flowId, pageSize: 1 })) seen.push(g.id);
  assert.deepEqual(new Set(seen), new Set([fox.id, night.id]));

  const again = await sdk.generations.regenerate(fox.id);
  assert.notEqual(again.outputImage.id, fox.outputImage.id);
  assert.equal((await sdk.images.get("@js-fox")).id, again.outputImage.id);

  assert.equal((await sdk.generations.delete(loose.id)).deleted, true);
  await assert.rejects(sdk.generations.get(loose.id), (error) => {
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.code, "GENERATION_NOT_FOUND");
    assert.equal(error.status, 404);
    return true;
  });
});

test("images: upload, alias, update, list, delete, download", async () => {
  const sdk = client();
  const source = await sdk.generations.create("a blue square", { flowId: null });
  const png = await sdk.images.download(source.outputImage, { w: 80, h: 60, mode: "crop", format: "png" });
  assert.deepEqual(pngSize(png), [80, 60]);

  const logo = await sdk.images.upload(png, { filename: "logo.png", alias: "@js-logo", meta: { owner: "js" } });
  assert.deepEqual([logo.width, logo.height, logo.source], [80, 60, "uploaded"]);
  assert.equal(logo.originalFilename, "logo.png");
  assert.deepEqual(logo.meta, { owner: "js" });
  const other = await sdk.images.upload(new Blob([png], { type: "image/png" }), { filename: "b.png" });

  assert.equal((await sdk.images.get("@js-logo")).id, logo.id);
  const uploaded = [];
  for await (const image of sdk.images.list({ source: "uploaded", pageSize: 1 })) uploaded.push(image.id);
  assert.ok(uploaded.includes(logo.id) && uploaded.includes(other.id));

  const edited = await sdk.images.update(logo, { focalPoint: { x: 0.25, y: 0.75 }, altText: "a logo" });
  assert.deepEqual(edited.focalPoint, { x: 0.25, y: 0.75 });
  assert.equal(edited.altText, "a logo");

  const moved = await sdk.images.setAlias(other, "@js-logo");
  assert.equal(moved.aliasMovedFrom, logo.id);
  assert.equal((await sdk.images.setAlias(other.id, null)).alias, null);

  await sdk.images.setAlias(logo, "@js-logo");
  const cup = await sdk.generations.create("a coffee cup with @js-logo on it", { template: "product" });
  assert.deepEqual(cup.referencedImages.map((r) => r.alias), ["@js-logo"]);

  assert.equal((await sdk.images.delete(other)).deleted, true);
  await assert.rejects(sdk.images.get(other.id), NotFoundError);
});

test("usage and enhance", async () => {
  const sdk = client();
  const before = await sdk.usage();
  await sdk.generations.create("a small cactus");
  const after = await sdk.usage();
  assert.equal(after.used, before.used + 1);
  const enhanced = await sdk.enhance("ein roter Fuchs", { template: "photorealistic" });
  assert.equal(enhanced.detectedLanguage, "de");
  assert.equal((await sdk.usage()).used, after.used);
});
