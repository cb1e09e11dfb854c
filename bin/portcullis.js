#!/usr/bin/env node
// The installed command: runs the compiled CLI (built by `npm install` through `prepare`).
import { main } from '../dist/cli/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`portcullis: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
