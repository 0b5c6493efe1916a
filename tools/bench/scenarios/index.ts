import type { Scenario } from '../scenario.js';
import { commandScaling } from './commandScaling.js';
import { sqliteAppend } from './sqliteAppend.js';
import { sqliteReplay } from './sqliteReplay.js';

/** Every scenario the harness knows, in the order `--list` shows them. */
export const scenarios: readonly Scenario[] = [commandScaling, sqliteAppend, sqliteReplay];
