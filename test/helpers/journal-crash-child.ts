// Child process of the config DB crash test: commits `count` transactions to
// the database in `dir` and prints "<round> <i>" on stdout (synchronously)
// after each commit returns, i.e. once the transaction is acknowledged. The
// parent SIGKILLs it at random moments and checks nothing acknowledged is lost.
// Run with plain node after the test transpiles it (see journal-crash.test.ts).

import { writeSync } from 'node:fs';
import { Database, named } from '../../vswitchd/db/database.js';

const [dir, roundArg, countArg, compactArg] = process.argv.slice(2);
const round = Number(roundArg);
const count = Number(countArg);
const { db } = Database.open(dir, { compactBytes: Number(compactArg) });
if (db.list('Open_vSwitch').length === 0) db.transact([{ op: 'insert', table: 'Open_vSwitch' }]);
writeSync(1, 'ready\n');
for (let i = 0; i < count; i++) {
  // Two operations that must land together: a new root row and a counter.
  db.transact([
    { op: 'insert', table: 'QoS', row: { type: 'linux-htb', external_ids: { txn: `${round} ${i}` } } },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
    { op: 'comment', comment: `crash test round ${round} txn ${i}` },
  ]);
  // Every 20th: a bridge with a port comes or goes, so GC runs under the knife too.
  if (i % 20 === 0) {
    db.transact([
      { op: 'insert', table: 'Bridge', uuidName: 'b', row: { name: `b${round}-${i}`, ports: [named('p')] } },
      { op: 'insert', table: 'Port', uuidName: 'p', row: { name: `p${round}-${i}`, interfaces: [named('i')] } },
      { op: 'insert', table: 'Interface', uuidName: 'i', row: { name: `p${round}-${i}`, type: 'guest' } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', [named('b')]]] },
    ]);
  } else if (i % 20 === 10) {
    const oldest = db.list('Bridge')[0];
    db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'delete', [oldest._uuid]]] }]);
  }
  writeSync(1, `${round} ${i}\n`);
}
db.close();
