/** `new Banatie({ apiKey, baseUrl })`: resources in the style of the OpenAI and Stripe SDKs. */

import { AuthenticationError } from "./errors.js";
import { type Call, type Config, getBytes, send } from "./http.js";
import {
  LIVE_PARAMS,
  type Pairs,
  TRANSFORM_PARAMS,
  type Transform,
  encodePairs,
  imagePath,
  livePath,
  signPairs,
  transformPairs,
} from "./signing.js";
import type {
  Deleted,
  Enhancement,
  FlowData,
  Generation,
  GenerationChanges,
  GenerationOptions,
  Image,
  ImageChanges,
  ImageRef,
  LiveImage,
  LiveRegeneration,
  LiveScope,
  LiveSettings,
  LiveSettingsChanges,
  LiveUrl,
  Namespace,
  NamespaceFields,
  ScopeOptions,
  StepOptions,
  UploadOptions,
  Usage,
} from "./types.js";

export interface BanatieOptions {
  /** A project key (`bnt_…`); default `process.env.BANATIE_API_KEY`. */
  apiKey?: string;
  /** The server; default `BANATIE_BASE_URL` or `http://localhost:8000` (`…/api/v1` accepted). */
  baseUrl?: string;
  /** What image URLs start with when a CDN is in front; default `baseUrl`. */
  cdnBaseUrl?: string;
  /** Slugs in `/cdn/{org}/{project}/…`: needed to build URLs from ids, aliases and scopes. */
  organization?: string;
  project?: string;
  /** The server's delivery signing key: `images.url` signs with it. */
  signingKey?: string;
  /** The project's live signing secret: `live.url` signs with it. */
  liveSigningSecret?: string;
  /** Milliseconds per request (default 120000). */
  timeout?: number;
  /** Retries of rate limits (429) and busy answers (503), after `Retry-After` (default 2). */
  maxRetries?: number;
  /** A `Retry-After` longer than this (ms, default 60000) is not waited for. */
  maxRetryDelay?: number;
  /** Your own `fetch` (default the global one). */
  fetch?: typeof fetch;
}

export interface UrlOptions extends Transform {
  /** Sign (default: when the client has the key); `false` never signs. */
  sign?: boolean;
  /** Seconds from now until a signed URL expires. */
  expiresIn?: number;
  /** Unix seconds (or a Date) when a signed URL expires. */
  expiresAt?: number | Date;
}

export interface LiveUrlOptions extends UrlOptions {
  aspectRatio?: string;
  imageSize?: string;
  template?: string;
  autoEnhance?: boolean;
  namespace?: string;
}

interface One<T> {
  data: T;
}
interface Many<T> {
  data: T[];
  pagination: { total: number; limit: number; offset: number; hasMore: boolean };
}

function env(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name] || undefined;
}

function origin(url: string): string {
  let base = url.replace(/\/+$/, "");
  for (const suffix of ["/api/v1", "/api"]) {
    if (base.endsWith(suffix)) base = base.slice(0, -suffix.length);
  }
  return base;
}

const seg = (value: string) => encodeURIComponent(value).replace(/%40/g, "@");
const refOf = (image: ImageRef) => (typeof image === "string" ? image : image.id);

function expiry(options: UrlOptions): number | undefined {
  if (options.expiresIn !== undefined) return Math.floor(Date.now() / 1000 + options.expiresIn);
  if (options.expiresAt instanceof Date) return Math.floor(options.expiresAt.getTime() / 1000);
  return options.expiresAt;
}

function signingKey(key: string | undefined, sign: boolean | undefined, what: string): string | undefined {
  if (sign === false) return undefined;
  if (!key) {
    if (sign === true) throw new Error(`sign: true needs ${what}`);
    return undefined;
  }
  return key;
}

function where(config: Config, what: string): [string, string] {
  if (!config.organization || !config.project) {
    throw new Error(
      `${what} needs the organization and project slugs: pass new Banatie({ organization, project }) ` +
        "or set BANATIE_ORGANIZATION and BANATIE_PROJECT",
    );
  }
  return [config.organization, config.project];
}

class Resource {
  constructor(protected readonly config: Config) {}

  protected async one<T>(call: Call): Promise<T> {
    return (await send<One<T>>(this.config, call)).data;
  }

  protected async *pages<T>(call: (offset: number) => Call): AsyncGenerator<T> {
    let offset = 0;
    for (;;) {
      const page = await send<Many<T>>(this.config, call(offset));
      yield* page.data;
      if (!page.pagination.hasMore || page.data.length === 0) return;
      offset += page.data.length;
    }
  }
}

export class Generations extends Resource {
  /** Generate an image. */
  create(prompt: string, options: GenerationOptions = {}): Promise<Generation> {
    const { referenceImages, ...rest } = options;
    const json: Record<string, unknown> = { prompt, ...rest };
    if (referenceImages !== undefined) json.referenceImages = referenceImages.map(refOf);
    return this.one({ method: "POST", path: "/api/v1/generations", json });
  }

  get(id: string): Promise<Generation> {
    return this.one({ method: "GET", path: `/api/v1/generations/${seg(id)}`, idempotent: true });
  }

  /** Every generation, newest first, page by page as you iterate (`for await`). */
  list(options: { flowId?: string; status?: string; pageSize?: number } = {}): AsyncGenerator<Generation> {
    const { flowId, status, pageSize = 100 } = options;
    return this.pages((offset) => ({
      method: "GET",
      path: "/api/v1/generations",
      query: { offset, limit: pageSize, flowId, status },
      idempotent: true,
    }));
  }

  delete(id: string): Promise<Deleted> {
    return this.one({ method: "DELETE", path: `/api/v1/generations/${seg(id)}`, idempotent: true });
  }

  regenerate(id: string): Promise<Generation> {
    return this.one({ method: "POST", path: `/api/v1/generations/${seg(id)}/regenerate` });
  }

  /**
   * Change the generation: a new prompt, aspectRatio, imageSize, template, namespace or
   * autoEnhance makes its image again in place (same id, alias and URLs; charged).
   */
  update(id: string, changes: GenerationChanges): Promise<Generation> {
    return this.one({ method: "PUT", path: `/api/v1/generations/${seg(id)}`, json: changes });
  }
}

export class Images extends Resource {
  /** Upload a PNG, JPEG or WebP (a Blob, File, Uint8Array or ArrayBuffer). */
  async upload(file: Blob | Uint8Array | ArrayBuffer, options: UploadOptions = {}): Promise<Image> {
    const form = new FormData();
    const blob = file instanceof Blob ? file : new Blob([file as BlobPart]);
    const filename = options.filename ?? ((file as { name?: string }).name || "image");
    form.append("file", blob, filename);
    if (options.alias !== undefined) form.append("alias", options.alias);
    if (options.flowId !== undefined) form.append("flowId", options.flowId);
    if (options.flowAlias !== undefined) form.append("flowAlias", options.flowAlias);
    if (options.meta !== undefined) form.append("meta", JSON.stringify(options.meta));
    const answer = await this.one<{ image: Image; aliasMovedFrom: string | null }>({
      method: "POST",
      path: "/api/v1/images/upload",
      form,
    });
    return { ...answer.image, aliasMovedFrom: answer.aliasMovedFrom };
  }

  /** An image by id or `@alias`. */
  get(image: ImageRef): Promise<Image> {
    return this.one({ method: "GET", path: `/api/v1/images/${seg(refOf(image))}`, idempotent: true });
  }

  list(options: { flowId?: string; source?: string; pageSize?: number } = {}): AsyncGenerator<Image> {
    const { flowId, source, pageSize = 100 } = options;
    return this.pages((offset) => ({
      method: "GET",
      path: "/api/v1/images",
      query: { offset, limit: pageSize, flowId, source },
      idempotent: true,
    }));
  }

  update(image: ImageRef, changes: ImageChanges): Promise<Image> {
    return this.one({
      method: "PUT",
      path: `/api/v1/images/${seg(refOf(image))}`,
      json: changes,
      idempotent: true,
    });
  }

  /** Give `image` the alias (moving it from another image: `aliasMovedFrom`); `null` removes it. */
  async setAlias(image: ImageRef, alias: string | null): Promise<Image> {
    const answer = await this.one<{ image: Image; aliasMovedFrom: string | null }>({
      method: "PUT",
      path: `/api/v1/images/${seg(refOf(image))}/alias`,
      json: { alias },
      idempotent: true,
    });
    return { ...answer.image, aliasMovedFrom: answer.aliasMovedFrom };
  }

  delete(image: ImageRef): Promise<Deleted> {
    return this.one({ method: "DELETE", path: `/api/v1/images/${seg(refOf(image))}`, idempotent: true });
  }

  /** The image's URL with transformations, signed with the client's `signingKey` if it has one. */
  async url(image: ImageRef, options: UrlOptions = {}): Promise<string> {
    const ref = typeof image === "string" ? image : image.storageUrl;
    let base: string;
    let path: string;
    if (/^https?:\/\//.test(ref)) {
      const parsed = new URL(ref);
      base = parsed.origin;
      path = parsed.pathname;
    } else {
      const [org, project] = where(this.config, "an image URL from an id or alias");
      base = this.config.cdnBaseUrl;
      path = imagePath(org, project, ref);
    }
    let pairs: Pairs = transformPairs(options);
    const key = signingKey(this.config.signingKey, options.sign, "the delivery signing key (signingKey)");
    if (key !== undefined) pairs = await signPairs(key, path, pairs, TRANSFORM_PARAMS, expiry(options));
    return pairs.length ? `${base}${path}?${encodePairs(pairs)}` : `${base}${path}`;
  }

  /** The image's bytes (transformed when asked); the API key is not sent to the CDN. */
  async download(image: ImageRef, options: UrlOptions = {}): Promise<Uint8Array> {
    return getBytes(this.config, await this.url(image, options));
  }
}

/** A flow with its helpers: `flow.generate(prompt)` adds a step, in which `@last` is the
 * flow's previous image (`@first` its first; its flow aliases are seen too). */
// The interface gives the class the flow's fields, which the constructor copies in.
export interface Flow extends FlowData {}
export class Flow {
  readonly #flows: Flows;

  constructor(flows: Flows, data: FlowData) {
    this.#flows = flows;
    Object.assign(this, data);
  }

  /** A generation in this flow (options as `generations.create`). */
  generate(prompt: string, options: StepOptions = {}): Promise<Generation> {
    return this.#flows.generations.create(prompt, { ...options, flowId: this.id });
  }

  /** Upload an image into this flow (it becomes the flow's `@upload`). */
  upload(file: Blob | Uint8Array | ArrayBuffer, options: Omit<UploadOptions, "flowId"> = {}): Promise<Image> {
    return this.#flows.images.upload(file, { ...options, flowId: this.id });
  }

  /** The flow's generations, the latest first. */
  generations(options: { pageSize?: number } = {}): AsyncGenerator<Generation> {
    return this.#flows.pagesOf<Generation>(`${this.#path()}/generations`, options.pageSize);
  }

  /** The flow's images (generated and uploaded), the latest first. */
  images(options: { pageSize?: number } = {}): AsyncGenerator<Image> {
    return this.#flows.pagesOf<Image>(`${this.#path()}/images`, options.pageSize);
  }

  /** Merge flow aliases (`{ "@hero": image }`; `null` removes one); the flow, updated. */
  async setAliases(aliases: Record<string, ImageRef | null>): Promise<Flow> {
    const named = Object.fromEntries(
      Object.entries(aliases).map(([name, ref]) => [name, ref === null ? null : refOf(ref)]),
    );
    return this.#flows.bind(
      await this.#flows.request<FlowData>({
        method: "PUT",
        path: `${this.#path()}/aliases`,
        json: { aliases: named },
        idempotent: true,
      }),
    );
  }

  /** The flow's last step again, into a new image (its aliases move to it); charged. */
  regenerate(): Promise<Generation> {
    return this.#flows.request({ method: "POST", path: `${this.#path()}/regenerate` });
  }

  refresh(): Promise<Flow> {
    return this.#flows.get(this.id);
  }

  /** Delete the flow, its generations and its images but those holding a project alias. */
  delete(): Promise<Deleted> {
    return this.#flows.delete(this.id);
  }

  #path(): string {
    return `/api/v1/flows/${encodeURIComponent(this.id)}`;
  }
}

export class Flows extends Resource {
  constructor(
    config: Config,
    readonly generations: Generations,
    readonly images: Images,
  ) {
    super(config);
  }

  /** A new flow: `flow.generate(prompt)` chains steps in it. */
  async create(options: { aliases?: Record<string, ImageRef>; meta?: Record<string, unknown> } = {}): Promise<Flow> {
    const json: Record<string, unknown> = {};
    if (options.aliases !== undefined) {
      json.aliases = Object.fromEntries(Object.entries(options.aliases).map(([name, ref]) => [name, refOf(ref)]));
    }
    if (options.meta !== undefined) json.meta = options.meta;
    return this.bind(await this.one<FlowData>({ method: "POST", path: "/api/v1/flows", json }));
  }

  async get(id: string): Promise<Flow> {
    return this.bind(await this.one<FlowData>({ method: "GET", path: this.path(id), idempotent: true }));
  }

  /** The project's flows, the most recently changed first. */
  async *list(options: { pageSize?: number } = {}): AsyncGenerator<Flow> {
    for await (const data of this.pagesOf<FlowData>("/api/v1/flows", options.pageSize)) yield this.bind(data);
  }

  delete(id: string): Promise<Deleted> {
    return this.one({ method: "DELETE", path: this.path(id), idempotent: true });
  }

  /** @internal */
  bind(data: FlowData): Flow {
    return new Flow(this, data);
  }

  /** @internal */
  request<T>(call: Call): Promise<T> {
    return this.one<T>(call);
  }

  /** @internal */
  pagesOf<T>(path: string, pageSize = 100): AsyncGenerator<T> {
    return this.pages((offset) => ({ method: "GET", path, query: { offset, limit: pageSize }, idempotent: true }));
  }

  private path(id: string): string {
    return `/api/v1/flows/${encodeURIComponent(id)}`;
  }
}

/** House styles: `generations.create(prompt, { namespace: slug })` inherits one. */
export class Namespaces extends Resource {
  create(slug: string, fields: NamespaceFields = {}): Promise<Namespace> {
    return this.one({ method: "POST", path: "/api/v1/namespaces", json: { slug, ...this.body(fields) } });
  }

  get(slug: string): Promise<Namespace> {
    return this.one({ method: "GET", path: this.path(slug), idempotent: true });
  }

  list(options: { pageSize?: number } = {}): AsyncGenerator<Namespace> {
    const limit = options.pageSize ?? 100;
    return this.pages((offset) => ({
      method: "GET",
      path: "/api/v1/namespaces",
      query: { offset, limit },
      idempotent: true,
    }));
  }

  /** Change the given fields (`null` clears one). */
  update(slug: string, fields: NamespaceFields): Promise<Namespace> {
    return this.one({ method: "PUT", path: this.path(slug), json: this.body(fields), idempotent: true });
  }

  /** Delete it; its images and generations are kept, without a namespace. */
  delete(slug: string): Promise<Deleted> {
    return this.one({ method: "DELETE", path: this.path(slug), idempotent: true });
  }

  private body(fields: NamespaceFields): Record<string, unknown> {
    const { styleImages, ...rest } = fields;
    const json: Record<string, unknown> = { ...rest };
    if (styleImages !== undefined) json.styleImages = styleImages === null ? null : styleImages.map(refOf);
    return json;
  }

  private path(slug: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(slug)}`;
  }
}

export class LiveScopes extends Resource {
  create(slug: string, options: ScopeOptions = {}): Promise<LiveScope> {
    return this.one({ method: "POST", path: "/api/v1/live/scopes", json: { slug, ...options } });
  }

  list(options: { pageSize?: number } = {}): AsyncGenerator<LiveScope> {
    const limit = options.pageSize ?? 100;
    return this.pages((offset) => ({
      method: "GET",
      path: "/api/v1/live/scopes",
      query: { offset, limit },
      idempotent: true,
    }));
  }

  get(slug: string): Promise<LiveScope> {
    return this.one({ method: "GET", path: this.path(slug), idempotent: true });
  }

  update(slug: string, changes: ScopeOptions): Promise<LiveScope> {
    return this.one({ method: "PUT", path: this.path(slug), json: changes, idempotent: true });
  }

  delete(slug: string): Promise<Deleted> {
    return this.one({ method: "DELETE", path: this.path(slug), idempotent: true });
  }

  images(slug: string, options: { status?: string; pageSize?: number } = {}): AsyncGenerator<LiveImage> {
    const { status, pageSize = 100 } = options;
    return this.pages((offset) => ({
      method: "GET",
      path: `${this.path(slug)}/images`,
      query: { offset, limit: pageSize, status },
      idempotent: true,
    }));
  }

  deleteImage(slug: string, imageId: string): Promise<Deleted> {
    return this.one({
      method: "DELETE",
      path: `${this.path(slug)}/images/${encodeURIComponent(imageId)}`,
      idempotent: true,
    });
  }

  /** New images behind the same URLs: one (`imageId`) or all of the scope's. */
  regenerate(slug: string, options: { imageId?: string } = {}): Promise<LiveRegeneration> {
    return this.one({
      method: "POST",
      path: `${this.path(slug)}/regenerate`,
      ...(options.imageId !== undefined ? { json: { imageId: options.imageId } } : {}),
    });
  }

  private path(slug: string): string {
    return `/api/v1/live/scopes/${encodeURIComponent(slug)}`;
  }
}

export class Live extends Resource {
  readonly scopes: LiveScopes;

  constructor(config: Config) {
    super(config);
    this.scopes = new LiveScopes(config);
  }

  settings(): Promise<LiveSettings> {
    return this.one({ method: "GET", path: "/api/v1/live/settings", idempotent: true });
  }

  updateSettings(changes: LiveSettingsChanges): Promise<LiveSettings> {
    return this.one({ method: "PUT", path: "/api/v1/live/settings", json: changes, idempotent: true });
  }

  /** Ask the server to build a live URL (signed with the project's secret if it has one). */
  createUrl(
    scope: string,
    prompt: string,
    options: { aspectRatio?: string; transform?: string; expiresInSeconds?: number; sign?: boolean } = {},
  ): Promise<LiveUrl> {
    return this.one({
      method: "POST",
      path: "/api/v1/live/urls",
      json: { scope, prompt, ...options },
      idempotent: true,
    });
  }

  /** A live URL, built here (no request); signed with `liveSigningSecret` when set. */
  async url(scope: string, prompt: string, options: LiveUrlOptions = {}): Promise<string> {
    const [org, project] = where(this.config, "a live URL");
    const path = livePath(org, project, scope);
    let pairs: Pairs = [["prompt", prompt]];
    for (const name of ["aspectRatio", "imageSize", "template", "namespace"] as const) {
      const value = options[name];
      if (value !== undefined) pairs.push([name, value]);
    }
    if (options.autoEnhance !== undefined) pairs.push(["autoEnhance", String(options.autoEnhance)]);
    pairs = pairs.concat(transformPairs(options));
    const key = signingKey(
      this.config.liveSigningSecret,
      options.sign,
      "the project's live signing secret (liveSigningSecret)",
    );
    if (key !== undefined) {
      const signed = new Set([...LIVE_PARAMS, ...TRANSFORM_PARAMS]);
      pairs = await signPairs(key, path, pairs, signed, expiry(options));
    }
    return `${this.config.cdnBaseUrl}${path}?${encodePairs(pairs)}`;
  }
}

export class Banatie {
  readonly generations: Generations;
  readonly images: Images;
  readonly live: Live;
  readonly flows: Flows;
  readonly namespaces: Namespaces;
  protected readonly config: Config;

  constructor(options: BanatieOptions = {}) {
    const apiKey = options.apiKey ?? env("BANATIE_API_KEY");
    if (!apiKey) {
      throw new AuthenticationError("no API key: pass new Banatie({ apiKey }) or set BANATIE_API_KEY", {
        code: "UNAUTHORIZED",
      });
    }
    const baseUrl = origin(options.baseUrl ?? env("BANATIE_BASE_URL") ?? "http://localhost:8000");
    const fetchImpl = options.fetch ?? globalThis.fetch;
    this.config = {
      apiKey,
      baseUrl,
      cdnBaseUrl: (options.cdnBaseUrl ?? env("BANATIE_CDN_BASE_URL") ?? baseUrl).replace(/\/+$/, ""),
      organization: options.organization ?? env("BANATIE_ORGANIZATION"),
      project: options.project ?? env("BANATIE_PROJECT"),
      signingKey: options.signingKey ?? env("BANATIE_DELIVERY_SIGNING_KEY"),
      liveSigningSecret: options.liveSigningSecret ?? env("BANATIE_LIVE_SIGNING_SECRET"),
      timeoutMs: options.timeout ?? 120_000,
      maxRetries: options.maxRetries ?? 2,
      maxRetryDelayMs: options.maxRetryDelay ?? 60_000,
      fetch: (input, init) => fetchImpl(input, init),
    };
    this.generations = new Generations(this.config);
    this.images = new Images(this.config);
    this.live = new Live(this.config);
    this.flows = new Flows(this.config, this.generations, this.images);
    this.namespaces = new Namespaces(this.config);
  }

  /** The prompt as `autoEnhance` would send it to the image model (never charged). */
  async enhance(prompt: string, options: { template?: string; aspectRatio?: string } = {}): Promise<Enhancement> {
    return (await send<One<Enhancement>>(this.config, {
      method: "POST",
      path: "/api/v1/enhance",
      json: { prompt, ...options },
    })).data;
  }

  /** Plan, generations used and remaining this month, storage. */
  async usage(): Promise<Usage> {
    return (await send<One<Usage>>(this.config, { method: "GET", path: "/api/v1/usage", idempotent: true })).data;
  }
}
