// Shared by the tests: the server the test suite started (see tests/sdk/js in the Banatie repo).
import assert from "node:assert/strict";

import { Banatie } from "../dist/index.js";

export const env = (name) => {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: run these tests through pytest tests/sdk/js`);
  return value;
};

export const baseUrl = () => env("BANATIE_BASE_URL");

export const client = (options = {}) =>
  new Banatie({
    apiKey: env("BANATIE_API_KEY"),
    baseUrl: baseUrl(),
    organization: "default",
    project: "main",
    signingKey: env("BANATIE_DELIVERY_SIGNING_KEY"),
    ...options,
  });

/** Width and height from a PNG's IHDR chunk. */
export const pngSize = (bytes) => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(String.fromCharCode(...bytes.slice(1, 4)), "PNG");
  return [view.getUint32(16), view.getUint32(20)];
};
