// Row -> running config helpers: Port VLAN columns as OVS port_configure reads
// them, Controller options, and OVS's Interface.error wording.
import { describe, expect, it } from 'vitest';
import { controllerConfigOf, interfaceError, portVlanOf } from '../../../vswitchd/ifaces.js';

const port = (cols: Record<string, unknown>) => ({ name: 'p1', tag: null, trunks: [], vlan_mode: null, ...cols }) as never;
const iface = (type: string) => ({ name: 'eth9', type, options: new Map() }) as never;

describe('ifaces: rows to config', () => {
  it('Port tag/trunks/vlan_mode follow OVS: implicit access ignores trunks, trunk without tag, native modes keep both', () => {
    expect(portVlanOf(port({}))).toEqual({ vlan: {} });
    expect(portVlanOf(port({ tag: 10 }))).toEqual({ vlan: { tag: 10 } });
    expect(portVlanOf(port({ tag: 10, trunks: [20, 5] }))).toEqual({ vlan: { tag: 10 }, warning: 'port p1: ignoring trunks in favor of implicit vlan' });
    expect(portVlanOf(port({ trunks: [20, 5] }))).toEqual({ vlan: { trunks: [5, 20] } });
    expect(portVlanOf(port({ tag: 10, trunks: [20], vlan_mode: 'native-untagged' }))).toEqual({ vlan: { tag: 10, trunks: [20], vlanMode: 'native-untagged' } });
    expect(portVlanOf(port({ vlan_mode: 'access', trunks: [3] })).warning).toBe('port p1: ignoring trunks in access mode');
    expect(portVlanOf(port({ vlan_mode: 'dot1q-tunnel', tag: 5 })).error).toBe('port p1: vlan_mode dot1q-tunnel is not supported by tsvs');
  });

  it('Controller options become ControllerConfig; in-band is a warning', () => {
    const c = { target: 'tcp:127.0.0.1:6653', max_backoff: 3000, inactivity_probe: 0, connection_mode: null, controller_rate_limit: null, controller_burst_limit: 50 } as never;
    expect(controllerConfigOf(c)).toEqual({ config: { target: 'tcp:127.0.0.1:6653', maxBackoffMs: 3000, inactivityProbeMs: 0, burstLimit: 50 } });
    expect(controllerConfigOf({ target: 'tcp:127.0.0.1:6653', connection_mode: 'in-band' } as never).warning).toMatch(/in-band is not supported/);
  });

  it('device errors read like OVS; others keep their message', () => {
    const enodev = Object.assign(new Error('system port eth9: no such network device (interface eth9: No such device)'), { code: 'ENODEV' });
    expect(interfaceError(iface(''), enodev)).toBe('could not open network device eth9 (No such device)');
    expect(interfaceError(iface('tap'), Object.assign(new Error('x'), { code: 'EPERM' }))).toBe('could not open network device eth9 (Operation not permitted)');
    expect(interfaceError(iface('system'), Object.assign(new Error('eth9: options:rx_batch=0 is not an integer 1..1024'), { code: 'EINVAL' }))).toBe('eth9: options:rx_batch=0 is not an integer 1..1024');
    expect(interfaceError(iface('guest'), Object.assign(new Error('bad mac'), { code: 'EINVAL' }))).toBe('bad mac');
  });
});
