export { Banatie, Flow, Flows, Generations, Images, Live, LiveScopes, Namespaces } from "./client.js";
export type { BanatieOptions, LiveUrlOptions, UrlOptions } from "./client.js";
export * from "./errors.js";
export { VERSION, parseRetryAfter } from "./http.js";
export { canonicalQuery, signature, type Transform } from "./signing.js";
export type * from "./types.js";
