#!/usr/bin/env node
// Runs the TypeScript sources through tsx so that `npm install` is the only setup step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
