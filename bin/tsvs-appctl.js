#!/usr/bin/env node
import { main } from '../dist/ctl/appctl.js';
await main();
