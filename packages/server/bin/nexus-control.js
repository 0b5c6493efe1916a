#!/usr/bin/env node
// Runs the built JavaScript in dist/ (npm run build in a clone of the repository).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
