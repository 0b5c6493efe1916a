import type { Scenario } from '../scenario.js';
import { cliStartup } from './cliStartup.js';
import { commandScaling } from './commandScaling.js';
import { grpcLifecycle } from './grpcLifecycle.js';
import { grpcLifecyclePg } from './grpcLifecyclePg.js';
import { mongoAppend } from './mongoAppend.js';
import { mongoReplay } from './mongoReplay.js';
import { observabilityOverhead } from './observabilityOverhead.js';
import { pgAppend } from './pgAppend.js';
import { pgAppendConcurrent } from './pgAppendConcurrent.js';
import { pgReplay } from './pgReplay.js';
import { parseFloats } from './parseFloats.js';
import { sqliteAppend } from './sqliteAppend.js';
import { sqliteAppendConcurrent } from './sqliteAppendConcurrent.js';
import { sqliteReplay } from './sqliteReplay.js';
import { verify10k } from './verify10k.js';
import { watchFanout } from './watchFanout.js';

/** Every scenario the harness knows, in the order `--list` shows them. */
export const scenarios: readonly Scenario[] = [
  commandScaling,
  sqliteAppend,
  sqliteAppendConcurrent,
  sqliteReplay,
  grpcLifecycle,
  verify10k,
  pgAppend,
  pgAppendConcurrent,
  pgReplay,
  grpcLifecyclePg,
  parseFloats,
  cliStartup,
  mongoAppend,
  mongoReplay,
  watchFanout,
  observabilityOverhead,
];
