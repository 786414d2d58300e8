// The daemon's version, reported by --version, the RPC `version` request and Open_vSwitch.ovs_version.
export const TSVS_VERSION = '0.1.0';
