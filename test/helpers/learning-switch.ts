// A tiny MAC-learning upcall handler (the role ofproto's NORMAL plays later):
// megaflows match in_port, eth_src and eth_dst. Same as the one in
// test/integration/datapath-guests.test.ts, shared by the port tests.
import type { DpAction } from '../../datapath/actions/types.js';
import type { Datapath, UpcallHandler } from '../../datapath/dpif.js';
import * as K from '../../datapath/flow/key.js';

export function learningSwitch(dp: Datapath): UpcallHandler & { misses: number } {
  const table = new Map<string, number>();
  const h = {
    misses: 0,
    miss(inPort: number, key: Uint32Array): { actions: DpAction[]; mask: Uint32Array } {
      h.misses++;
      const src = `${key[K.W_ETH_SRC_HI]}:${key[K.W_ETH_SRC_LO]}`;
      const dst = `${key[K.W_ETH_DST_HI]}:${key[K.W_ETH_DST_LO]}`;
      const learnedBefore = table.get(src);
      table.set(src, inPort);
      if (learnedBefore !== inPort) dp.flowFlush(); // revalidate: simplest correct choice here
      const out = table.get(dst);
      const ports = out !== undefined ? [out] : dp.ports().map((p) => p.portNo).filter((n) => n !== inPort);
      const mask = K.newKey();
      for (const w of [K.W_IN_PORT, K.W_ETH_SRC_HI, K.W_ETH_SRC_LO, K.W_ETH_DST_HI, K.W_ETH_DST_LO]) mask[w] = 0xffffffff;
      return { actions: ports.map((port) => ({ type: 'output', port })), mask };
    },
  };
  return h;
}
