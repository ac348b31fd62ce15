import assert from "node:assert/strict";
import { test } from "node:test";

import { Flow, NotFoundError, ValidationError } from "../dist/index.js";
import { client } from "./helpers.mjs";

test("flows: the helper chains steps, @last is the previous image", async () => {
  const sdk = client();
  const flow = await sdk.flows.create({ meta: { page: "winter" } });
  assert.ok(flow instanceof Flow);
  assert.deepEqual([flow.generationCount, flow.meta], [0, { page: "winter" }]);
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(flow))).sort(), Object.keys(flow).sort());

  const fox = await flow.generate("a red fox in a snowy forest", { aspectRatio: "16:9" });
  const night = await flow.generate("the same scene at night, @last");
  assert.equal(fox.flowId, flow.id);
  assert.equal(night.flowId, flow.id);
  assert.deepEqual(night.referencedImages.map((r) => r.id), [fox.outputImage.id]);

  const png = await sdk.images.download(fox.outputImage, { w: 40, format: "png" });
  const mark = await flow.upload(png, { filename: "mark.png", flowAlias: "@mark" });
  assert.equal(mark.flowId, flow.id);
  const badge = await flow.generate("a badge with @mark");
  assert.deepEqual(badge.referencedImages.map((r) => r.id), [mark.id]);

  const updated = await flow.setAliases({ "@hero": fox.outputImage });
  assert.ok(updated instanceof Flow);
  assert.equal(updated.aliases["@hero"], fox.outputImage.id);
  const fresh = await flow.refresh();
  assert.deepEqual([fresh.generationCount, fresh.imageCount], [3, 4]);
  const images = [];
  for await (const image of fresh.images({ pageSize: 2 })) images.push(image.id);
  assert.deepEqual(images, [badge.outputImage.id, mark.id, night.outputImage.id, fox.outputImage.id]);
  const steps = [];
  for await (const step of fresh.generations({ pageSize: 2 })) steps.push(step.id);
  assert.deepEqual(steps, [badge.id, night.id, fox.id]);
  const listed = [];
  for await (const one of sdk.flows.list({ pageSize: 2 })) listed.push(one.id);
  assert.ok(listed.includes(flow.id));
  assert.deepEqual((await sdk.flows.get(flow.id)).aliases, fresh.aliases);

  const again = await fresh.regenerate();
  assert.equal(again.id, badge.id);
  assert.notEqual(again.outputImage.id, badge.outputImage.id);
  const gone = await fresh.delete();
  assert.equal(gone.generationsDeleted, 3);
  await assert.rejects(sdk.flows.get(flow.id), (error) => {
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.code, "FLOW_NOT_FOUND");
    return true;
  });
});

test("namespaces: create, read, list, update, inherit, delete", async () => {
  const sdk = client();
  const swatch = await sdk.images.upload(
    await sdk.images.download((await sdk.generations.create("an orange square", { flowId: null })).outputImage, {
      w: 30,
      format: "png",
    }),
    { filename: "swatch.png", alias: "@js-swatch" },
  );
  const made = await sdk.namespaces.create("js-brand", {
    name: "Brand",
    stylePrompt: "flat vector, pastel palette",
    styleImages: [swatch],
    aspectRatio: "16:9",
  });
  assert.deepEqual([made.slug, made.styleImages, made.aspectRatio], ["js-brand", [swatch.id], "16:9"]);
  assert.equal((await sdk.namespaces.get("JS-Brand")).id, made.id);
  const slugs = [];
  for await (const ns of sdk.namespaces.list({ pageSize: 1 })) slugs.push(ns.slug);
  assert.ok(slugs.includes("js-brand"));

  const styled = await sdk.generations.create("a teapot", { namespace: "js-brand" });
  assert.deepEqual([styled.namespace, styled.aspectRatio], ["js-brand", "16:9"]);
  assert.match(styled.prompt, /pastel/);

  const changed = await sdk.namespaces.update("js-brand", { stylePrompt: null, template: "sticker" });
  assert.deepEqual([changed.stylePrompt, changed.template], [null, "sticker"]);
  const gone = await sdk.namespaces.delete("js-brand");
  assert.deepEqual([gone.deleted, gone.slug, gone.imagesKept], [true, "js-brand", 1]);
  await assert.rejects(sdk.namespaces.get("js-brand"), NotFoundError);
});

test("generations.update: meta alone, or made again in place", async () => {
  const sdk = client();
  const made = await sdk.generations.create("a green kettle", { aspectRatio: "4:3", alias: "@js-kettle" });
  const noted = await sdk.generations.update(made.id, { meta: { page: "kitchen" } });
  assert.deepEqual(noted.meta, { page: "kitchen" });
  const redone = await sdk.generations.update(made.id, { prompt: "a red kettle", aspectRatio: "1:1" });
  assert.deepEqual([redone.originalPrompt, redone.aspectRatio], ["a red kettle", "1:1"]);
  assert.equal(redone.outputImage.id, made.outputImage.id);
  assert.equal((await sdk.images.get("@js-kettle")).width, 1024);
  await assert.rejects(sdk.generations.update(made.id, { aspectRatio: "7:3" }), ValidationError);
});
