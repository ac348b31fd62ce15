/**
 * Image and live URLs, signed the way the server checks them (HMAC-SHA256 through Web Crypto):
 * `sig = base64url(HMAC-SHA256(key, path + "?" + canonical))` without padding, where `canonical`
 * keeps the signed parameters, lower-cases their names, trims their values, percent-encodes every
 * value (RFC 3986, nothing safe), sorts the pairs and joins them with `&`.
 */

export type Pairs = Array<[string, string]>;

/** Transformation parameters of image URLs (lower case), and `exp`. */
export const TRANSFORM_PARAMS: ReadonlySet<string> = new Set([
  "w", "width", "h", "height", "mode", "scale", "anchor", "c.gravity", "dpr", "format", "fmt",
  "quality", "bgcolor", "trim.threshold", "srotate", "sflip", "f.sharpen", "blur",
  "s.saturation", "s.brightness", "s.contrast", "rotate", "flip", "watermark",
  "watermark.position", "watermark.scale", "watermark.opacity", "preset", "exp",
]);

/** Generation parameters of live URLs (lower case, every spelling the server reads). */
export const LIVE_PARAMS: ReadonlySet<string> = new Set([
  "prompt", "aspectratio", "aspect_ratio", "ar", "imagesize", "image_size", "template",
  "autoenhance", "auto_enhance", "namespace",
]);

/** Transformation options of an image or live URL. */
export interface Transform {
  w?: number;
  h?: number;
  mode?: "max" | "pad" | "crop" | "stretch";
  scale?: "down" | "both" | "canvas";
  anchor?: string;
  /** `c.gravity`: x and y in percent. */
  gravity?: [number, number];
  dpr?: number;
  format?: "auto" | "avif" | "webp" | "jpeg" | "jpg" | "png";
  quality?: number;
  bgcolor?: string;
}

const TRANSFORM_KEYS: Array<keyof Transform> = [
  "w", "h", "mode", "scale", "anchor", "gravity", "dpr", "format", "quality", "bgcolor",
];

/** RFC 3986 percent-encoding with only the unreserved characters left as they are. */
export function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function transformPairs(transform: Transform): Pairs {
  const pairs: Pairs = [];
  for (const key of TRANSFORM_KEYS) {
    const value = transform[key];
    if (value === undefined || value === null) continue;
    if (key === "gravity") {
      const [x, y] = value as [number, number];
      pairs.push(["c.gravity", `${x},${y}`]);
    } else {
      pairs.push([key, String(value)]);
    }
  }
  return pairs;
}

export function imagePath(org: string, project: string, ref: string): string {
  const seg = (s: string) => encodeValue(s).replace(/%2F/g, "/");
  return `/cdn/${seg(org)}/${seg(project)}/img/${encodeValue(ref).replace(/%40/g, "@")}`;
}

export function livePath(org: string, project: string, scope: string): string {
  return `/cdn/${encodeValue(org)}/${encodeValue(project)}/live/${encodeValue(scope.toLowerCase())}`;
}

export function canonicalQuery(pairs: Pairs, signed: ReadonlySet<string>): string {
  const items = pairs
    .map(([name, value]) => [name.trim().toLowerCase(), value.trim()] as [string, string])
    .filter(([name]) => signed.has(name));
  // Python sorts tuples by code point; compare the same way (not localeCompare).
  items.sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]));
  return items.map(([name, value]) => `${name}=${encodeValue(value)}`).join("&");
}

function cmp(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const y = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return x.length - y.length;
}

interface Subtle {
  importKey(...args: unknown[]): Promise<unknown>;
  sign(algorithm: string, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
}

async function subtle(): Promise<Subtle> {
  const web = (globalThis as { crypto?: { subtle?: Subtle } }).crypto;
  if (web?.subtle) return web.subtle;
  // Node 18 without the global: its Web Crypto lives in node:crypto.
  const specifier = "node:crypto";
  const mod = (await import(specifier)) as { webcrypto: { subtle: Subtle } };
  return mod.webcrypto.subtle;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function signature(
  key: string,
  path: string,
  pairs: Pairs,
  signed: ReadonlySet<string>,
): Promise<string> {
  const encoder = new TextEncoder();
  const crypto = await subtle();
  const hmacKey = await crypto.importKey(
    "raw",
    encoder.encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const message = encoder.encode(`${path}?${canonicalQuery(pairs, signed)}`);
  return base64url(new Uint8Array(await crypto.sign("HMAC", hmacKey, message)));
}

/** `pairs` with `exp` (when given) and `sig` appended. */
export async function signPairs(
  key: string,
  path: string,
  pairs: Pairs,
  signed: ReadonlySet<string>,
  expiresAt?: number,
): Promise<Pairs> {
  const items: Pairs = [...pairs];
  if (expiresAt !== undefined) items.push(["exp", String(Math.floor(expiresAt))]);
  items.push(["sig", await signature(key, path, items, signed)]);
  return items;
}

export function encodePairs(pairs: Pairs): string {
  return pairs.map(([name, value]) => `${encodeValue(name)}=${encodeValue(value)}`).join("&");
}
