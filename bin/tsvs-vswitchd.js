#!/usr/bin/env node
// Runs the compiled daemon (npm install / npm run build produce dist/).
import '../dist/vswitchd/main.js';
