// Minimal OpenFlow 1.3 responder (HELLO, BARRIER_REPLY, ECHO_REPLY; installs nothing): the floor of
// Node's net.Socket round trip for the flowmod bench. Run: node bench/of-echo-floor.mjs (prints the port),
// then time ovs-ofctl -O OpenFlow13 --no-names add-flows tcp:127.0.0.1:PORT FILE.
import net from 'node:net';
const srv = net.createServer({ noDelay: true }, (s) => {
  const hello = Buffer.from([4, 0, 0, 8, 0, 0, 0, 1]);
  s.write(hello);
  let buf = Buffer.alloc(0);
  s.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    const out = [];
    while (buf.length >= 8) {
      const len = buf.readUInt16BE(2);
      if (buf.length < len) break;
      const type = buf[1];
      const xid = buf.readUInt32BE(4);
      if (type === 20 || type === 2) { const r = Buffer.alloc(8); r[0] = 4; r[1] = type === 20 ? 21 : 3; r.writeUInt16BE(8, 2); r.writeUInt32BE(xid, 4); out.push(r); }
      buf = buf.subarray(len);
    }
    if (out.length) s.write(out.length === 1 ? out[0] : Buffer.concat(out));
  });
  s.on('error', () => {});
});
srv.listen(0, '127.0.0.1', () => { console.log(srv.address().port); });
