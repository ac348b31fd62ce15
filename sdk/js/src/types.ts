/** What the API answers (camelCase, as on the wire). Fields a newer server adds pass through. */

export interface FocalPoint {
  x: number;
  y: number;
}

export interface Image {
  id: string;
  projectId: string;
  flowId: string | null;
  generationId: string | null;
  source: string;
  alias: string | null;
  storageUrl: string;
  aliasUrl: string | null;
  mimeType: string;
  fileSize: number;
  width: number;
  height: number;
  hasAlpha: boolean;
  focalPoint: FocalPoint;
  analyzer: string;
  altText: string | null;
  description: string | null;
  tags: string[];
  dominantColors: string[];
  placeholderHash: string | null;
  originalFilename: string | null;
  fileHash: string;
  meta: Record<string, unknown>;
  variants: Record<string, string>;
  srcset: string | null;
  createdAt: string;
  updatedAt: string;
  /** After an upload or an alias change: the image the alias was taken from, if any. */
  aliasMovedFrom?: string | null;
  [extra: string]: unknown;
}

export interface ReferencedImage {
  id: string;
  alias: string | null;
  storageUrl: string;
}

export interface Generation {
  id: string;
  projectId: string;
  flowId: string | null;
  status: "processing" | "success" | "failed" | string;
  source: string;
  prompt: string;
  originalPrompt: string;
  autoEnhance: boolean;
  aspectRatio: string;
  imageSize: string | null;
  template: string | null;
  namespace: string | null;
  alias: string | null;
  flowAlias: string | null;
  outputImage: Image | null;
  variants: Record<string, string>;
  referencedImages: ReferencedImage[];
  detectedLanguage: string | null;
  enhancer: string | null;
  synthesizer: string | null;
  model: string | null;
  tokenUsage: Record<string, unknown>;
  errorCode: string | null;
  errorMessage: string | null;
  processingTimeMs: number | null;
  meta: Record<string, unknown>;
  aliasMovedFrom?: string | null;
  createdAt: string;
  updatedAt: string;
  [extra: string]: unknown;
}

export interface Deleted {
  id?: string;
  slug?: string;
  deleted: boolean;
  outputImageDeleted?: boolean;
  imageId?: string | null;
  imagesDeleted?: number;
  generationsDeleted?: number;
  /** A flow's: ids of the images kept (they hold a project alias); a namespace's: how many. */
  imagesKept?: string[] | number;
}

/** A flow as the API answers it (`client.flows` hands out a `Flow` with helpers). */
export interface FlowData {
  id: string;
  projectId: string;
  /** Flow aliases (`@hero`) -> image ids; seen only by the flow's own generations. */
  aliases: Record<string, string>;
  generationCount: number;
  imageCount: number;
  lastGeneratedAt: string | null;
  meta: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** A house style: generations, live URLs and uploads that name it inherit it. */
export interface Namespace {
  id: string;
  slug: string;
  name: string;
  stylePrompt: string | null;
  systemPrompt: string | null;
  styleImages: string[];
  negativePrompt: string | null;
  template: string | null;
  aspectRatio: string | null;
  meta: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface LiveScope {
  slug: string;
  allowNewGenerations: boolean;
  newGenerationsLimit: number;
  currentGenerations: number;
  remainingGenerations: number;
  lastGeneratedAt: string | null;
  liveUrl: string;
  meta: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface LiveImage {
  id: string;
  scope: string;
  status: "ready" | "pending" | "failed" | string;
  prompt: string;
  aspectRatio: string;
  template: string;
  autoEnhance: boolean;
  namespace: string | null;
  liveUrl: string;
  generationId: string | null;
  imageId: string | null;
  image: Image | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface LiveRegeneration {
  regenerated: LiveImage[];
  failed: Array<{ imageId: string | null; code: string; message: string }>;
}

export interface LiveSettings {
  allowedReferrers: string[];
  requireSignature: boolean;
  hasSigningSecret: boolean;
  /** Only in the answer that created the secret: keep it. */
  signingSecret?: string | null;
  ipRateLimit: string;
  autoCreateScopes: boolean;
  defaultAllowNewGenerations: boolean;
  defaultNewGenerationsLimit: number;
}

export interface LiveUrl {
  url: string;
  signed: boolean;
  expiresAt: number | null;
  imgTag: string;
}

export interface Enhancement {
  enhancedPrompt: string;
  originalPrompt: string;
  detectedLanguage: string;
  rationale: string;
  enhancer: string;
  template: string;
  aspectRatio: string;
}

export interface Usage {
  plan: string;
  planName: string;
  period: string;
  used: number;
  limit: number | null;
  remaining: number | null;
  resetsAt: string;
  rateLimit: string | null;
  storageUsedBytes: number;
  storageLimitBytes: number | null;
}

/** An image given by id, `@alias`, or as the Image the API returned. */
export type ImageRef = string | Pick<Image, "id" | "storageUrl">;

export interface GenerationOptions {
  aspectRatio?: string;
  imageSize?: string;
  template?: string;
  namespace?: string;
  referenceImages?: ImageRef[];
  alias?: string;
  flowAlias?: string;
  /** Left out: a new flow. `null`: no flow. */
  flowId?: string | null;
  autoEnhance?: boolean;
  meta?: Record<string, unknown>;
}

/** Options of a step of a flow (`flow.generate`): those of `generations.create` but `flowId`. */
export type StepOptions = Omit<GenerationOptions, "flowId">;

/**
 * What `generations.update` may change. A new prompt, aspectRatio, imageSize, template, namespace
 * or autoEnhance makes the image again in place (same id, alias and URLs; charged); `meta` alone
 * does not. `template`/`namespace` `null` clears it.
 */
export interface GenerationChanges {
  prompt?: string;
  aspectRatio?: string;
  imageSize?: string;
  template?: string | null;
  namespace?: string | null;
  autoEnhance?: boolean;
  meta?: Record<string, unknown>;
}

/** A namespace's fields (`namespaces.create` / `.update`); `null` clears one. */
export interface NamespaceFields {
  name?: string | null;
  stylePrompt?: string | null;
  systemPrompt?: string | null;
  styleImages?: ImageRef[] | null;
  negativePrompt?: string | null;
  template?: string | null;
  aspectRatio?: string | null;
  meta?: Record<string, unknown> | null;
}

export interface UploadOptions {
  filename?: string;
  alias?: string;
  flowId?: string;
  flowAlias?: string;
  meta?: Record<string, unknown>;
}

export interface ImageChanges {
  focalPoint?: FocalPoint;
  altText?: string | null;
  description?: string | null;
  tags?: string[];
  meta?: Record<string, unknown>;
}

export interface ScopeOptions {
  allowNewGenerations?: boolean;
  newGenerationsLimit?: number;
  meta?: Record<string, unknown>;
}

export interface LiveSettingsChanges {
  allowedReferrers?: string[];
  requireSignature?: boolean;
  ipRateLimit?: string | null;
  autoCreateScopes?: boolean;
  defaultAllowNewGenerations?: boolean;
  defaultNewGenerationsLimit?: number;
  rotateSigningSecret?: boolean;
}
