// A throwaway PKI for TLS tests, made with the openssl CLI: a CA, certificates
// it signed for a switch and a controller, and a stranger signed by another CA.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface Cert {
  key: string;
  cert: string;
}

export interface TestPki {
  caCert: string;
  switch: Cert;
  controller: Cert;
  /** Signed by a different CA: must be refused. */
  stranger: Cert;
  strangerCaCert: string;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  run(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '2']);
}

function makeLeaf(dir: string, ca: string, name: string): Cert {
  run(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  run(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2']);
  return { key: join(dir, `${name}.key`), cert: join(dir, `${name}.crt`) };
}

export function makeTestPki(dir: string): TestPki {
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  return {
    caCert: join(dir, 'ca.crt'),
    switch: makeLeaf(dir, 'ca', 'switch'),
    controller: makeLeaf(dir, 'ca', 'controller'),
    stranger: makeLeaf(dir, 'other-ca', 'stranger'),
    strangerCaCert: join(dir, 'other-ca.crt'),
  };
}
