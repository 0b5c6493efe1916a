export * from './JsonValue.js';
export * from './canonicalJson.js';
export * from './digest.js';
export * from './parseJson.js';
export * from './parseJsonStrict.js';
export * from './copyJson.js';
export * from './pythonFloatRepr.js';
export { compareCodePoints } from './unicode.js';
export * from './jsonLimits.js';
