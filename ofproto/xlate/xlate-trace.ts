// The trace sink of translation (OVS ofproto-dpif-trace's oftrace_node tree):
// xlate reports what it does as nodes (a table it looked up, an action, a
// detail), and ofproto/trace prints the tree with OVS's indentation rules.
// Translation holds a nullable reference and tests it once per step, so the
// upcall path builds no text and allocates nothing for tracing.

export type TraceNodeType = 'bridge' | 'table' | 'bucket' | 'action' | 'detail' | 'warn' | 'error';

export interface TraceNode {
  readonly type: TraceNodeType;
  readonly text: string;
  readonly subs: TraceNode[];
}

/** Terminal nodes are indented one step past their siblings' non-terminal ones (oftrace_node_type_is_terminal). */
function isTerminal(t: TraceNodeType): boolean {
  return t === 'action' || t === 'detail' || t === 'warn' || t === 'error' || t === 'bucket';
}

export class XlateTrace {
  readonly root: TraceNode[] = [];
  /** The list new nodes go into. */
  private cur: TraceNode[] = this.root;
  /** Subs of the first table looked up: the action set's node goes there, as OVS reports it at the end of translation. */
  private firstTable: TraceNode[] | null = null;

  report(type: TraceNodeType, text: string): TraceNode {
    const n: TraceNode = { type, text, subs: [] };
    this.cur.push(n);
    return n;
  }

  /** Report a bridge (the top of a trace); later nodes go under it. */
  bridge(name: string): void {
    this.cur = this.report('bridge', `bridge("${name}")`).subs;
  }

  /**
   * Report a table lookup's result; later nodes go under it until restore().
   * Returns the list to restore.
   */
  table(text: string): TraceNode[] {
    const saved = this.cur;
    this.cur = this.report('table', text).subs;
    this.firstTable ??= this.cur;
    return saved;
  }

  /** Report a group bucket; its actions go under it until restore(). */
  bucket(text: string): TraceNode[] {
    const saved = this.cur;
    this.cur = this.report('bucket', text).subs;
    return saved;
  }

  /** The action set runs after the pipeline: a "--." table node under the first table. */
  actionSet(): TraceNode[] {
    const saved = this.cur;
    if (this.firstTable !== null) this.cur = this.firstTable;
    this.cur = this.report('table', '--. Executing action set:').subs;
    return saved;
  }

  restore(list: TraceNode[]): void {
    this.cur = list;
  }

  action(text: string): void {
    this.report('action', text);
  }

  detail(text: string): void {
    this.report('detail', text);
  }

  warn(text: string): void {
    this.report('warn', text);
  }

  error(text: string): void {
    this.report('error', text);
  }

  /** The tree as OVS prints it (oftrace_node_print_details); each line ends with a newline. */
  format(): string {
    const out: string[] = [];
    printNodes(this.root, 0, out);
    return out.join('');
  }
}

function printNodes(nodes: readonly TraceNode[], level: number, out: string[]): void {
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.type === 'bridge') out.push('\n');
    const more = i < nodes.length - 1 || isTerminal(n.type) ? 1 : 0;
    const pad = ' '.repeat((level + more) * 4);
    switch (n.type) {
      case 'detail':
        out.push(`${pad} -> ${n.text}\n`);
        break;
      case 'warn':
        out.push(`${pad} >> ${n.text}\n`);
        break;
      case 'error':
        out.push(`${pad} >>>> ${n.text} <<<<\n`);
        break;
      case 'bridge':
        out.push(`${pad}${n.text}\n${pad}${'-'.repeat(n.text.length)}\n`);
        break;
      default:
        out.push(`${pad}${n.text}\n`);
        break;
    }
    printNodes(n.subs, level + 2 * more, out);
  }
}
