export * from './gen/nexus/control/v1/types.js';
export * from './gen/nexus/control/v1/decisions.js';
export * from './gen/nexus/control/v1/approvals.js';
export * from './gen/nexus/control/v1/execution.js';
export * from './gen/nexus/control/v1/templates.js';
export * from './gen/nexus/control/v1/bundles.js';
export * from './gen/nexus/control/v1/audit.js';
export * from './gen/nexus/control/v1/diagnostics.js';
export * from './gen/nexus/control/v1/errors.js';
// Every generated file declares these helpers; naming one source resolves the ambiguity.
export { protobufPackage, protobufFileName, type DeepPartial, type MessageFns } from './gen/nexus/control/v1/types.js';
export { Timestamp } from './gen/google/protobuf/timestamp.js';
export { Empty } from './gen/google/protobuf/empty.js';

export { createNexusClient } from './createNexusClient.js';
export type {
  NexusCallOptions,
  NexusClient,
  NexusClientOptions,
  NexusTlsOptions,
  NexusWatch,
  NexusWatchItem,
  UnaryMethod,
} from './createNexusClient.js';
export { NexusClientError, isNexusClientError } from './NexusClientError.js';
export { decodeErrorStatus, encodeErrorStatus, type ErrorStatus } from './errorStatus.js';
export { dateFromTimestamp, textFromTimestamp, timestampFromDate, timestampFromText } from './timestamps.js';
export {
  actorTypeNames,
  conflictModeNames,
  decisionStatusNames,
  eventTypeNames,
  executionStatusNames,
  modeNames,
  routerModeNames,
} from './specNames.js';
export { descriptorSetPath, readDescriptorSet } from './descriptorSet.js';
export * from './wireNames.js';
