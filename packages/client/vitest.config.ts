import { defineNexusProject } from '../../vitest.shared.js';

export default defineNexusProject('client');
