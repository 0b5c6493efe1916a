export * from './identifier.js';
export * from './limits.js';
export * from './quote.js';
