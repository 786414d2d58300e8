// A tap port (OVS `type=tap`): tsvs creates a TAP device (IFF_TAP|IFF_NO_PI)
// and brings it up; the host stack, a namespace it is moved into, or a VM uses
// the other side. The device goes away when the port stops.

import { openTap, type TapOptions } from '../native/index.js';
import { NativeIoPort, portOpenError, type NativeIo, type NativeIoPortOptions } from './native-io-port.js';

export interface TapPortOptions extends NativeIoPortOptions {
  /** @internal tests: open something else than a TAP. */
  opener?: (name: string, opts: TapOptions) => NativeIo;
}

export class TapPort extends NativeIoPort {
  readonly type: string = 'tap';

  constructor(
    name: string,
    private readonly opts: TapPortOptions = {},
  ) {
    super(name, opts);
  }

  protected open(): NativeIo {
    const tapOpts: TapOptions = { up: true };
    try {
      return this.opts.opener ? this.opts.opener(this.name, tapOpts) : openTap(this.name, tapOpts);
    } catch (err) {
      throw portOpenError(this.type, this.name, err);
    }
  }
}
