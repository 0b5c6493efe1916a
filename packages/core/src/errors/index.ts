export * from './errorCodes.js';
export * from './NexusError.js';
