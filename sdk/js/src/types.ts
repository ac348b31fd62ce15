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
