#!/usr/bin/env node
// tsvs-ofctl: runs the compiled code in dist/ (built by `npm install` or `npm run build`).
async function load(path) {
  try {
    return await import(path);
  } catch (e) {
    if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('/dist/')) {
      process.stderr.write('tsvs-ofctl: dist/ is missing or stale; run "npm install" or "npm run build" in the tsvs checkout\n');
      process.exit(1);
    }
    throw e;
  }
}
const { main } = await load('../dist/ctl/ofctl.js');
await main();
