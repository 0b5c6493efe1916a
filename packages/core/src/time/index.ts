export * from './Clock.js';
export * from './timestamp.js';
