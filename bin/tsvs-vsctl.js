#!/usr/bin/env node
import { main } from '../dist/ctl/vsctl.js';
await main();
