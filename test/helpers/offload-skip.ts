// Why hw-offload tests cannot run here ('' when they can): they need root, the
// native addon, tc (iproute2) and a kernel with cls_bpf and act_mirred.
import { execFileSync } from 'node:child_process';
import { nativeAvailable } from '../../datapath/native/index.js';
import { isRoot } from './netlab.js';

export function offloadSkipReason(): string {
  if (!nativeAvailable()) return 'native addon not built';
  if (!isRoot()) return 'not root';
  try {
    execFileSync('tc', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'tc (iproute2) not installed';
  }
  try {
    const cfg = execFileSync('sh', ['-c', 'zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r) 2>/dev/null || true'], { encoding: 'utf8' });
    if (cfg && !/^CONFIG_NET_CLS_BPF=[ym]/m.test(cfg)) return 'kernel without cls_bpf (CONFIG_NET_CLS_BPF)';
    if (cfg && !/^CONFIG_NET_ACT_MIRRED=[ym]/m.test(cfg)) return 'kernel without act_mirred';
  } catch {
    /* no config to read: try anyway */
  }
  return '';
}
