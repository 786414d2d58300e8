// An internal port (OVS `type=internal`): the bridge's own host-facing
// interface, a TAP named after the bridge (or the Interface name) that the
// host gives an IP address to. Same I/O as a tap port; only its role differs.

import { TapPort, type TapPortOptions } from './tap.js';

export class InternalPort extends TapPort {
  override readonly type: string = 'internal';

  constructor(name: string, opts: TapPortOptions = {}) {
    super(name, opts);
  }
}
