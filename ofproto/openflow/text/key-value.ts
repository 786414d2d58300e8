// The tokenizer of ovs-ofctl's "key=value,key:value,key(value)" lists
// (ofputil_parse_key_value in OVS lib/ofp-parse.c), keeping each token's
// offset so errors can point at a column.

export interface KeyValue {
  key: string;
  value: string;
  /** 0-based offsets of key and value in the string given to the tokenizer, plus `base`. */
  keyAt: number;
  valueAt: number;
}

/** Length of a value up to one of `delims`, skipping over balanced parentheses. */
function valueLength(s: string, from: number, delims: string): number {
  let n = from;
  while (n < s.length && !delims.includes(s[n]!)) {
    if (s[n] === '(') {
      let level = 0;
      do {
        if (n >= s.length) return n - from;
        if (s[n] === '(') level++;
        else if (s[n] === ')') level--;
        n++;
      } while (level > 0);
    } else {
      n++;
    }
  }
  return n - from;
}

const SKIP = ', \t\r\n';

/** Splits `s` into key/value pairs exactly like ofputil_parse_key_value. */
export function parseKeyValues(s: string, base = 0): KeyValue[] {
  const out: KeyValue[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && SKIP.includes(s[pos]!)) pos++;
    if (pos >= s.length) return out;
    const keyAt = pos;
    while (pos < s.length && !':=(, \t\r\n'.includes(s[pos]!)) pos++;
    const key = s.slice(keyAt, pos);
    const delim = pos < s.length ? s[pos]! : '';
    if (delim !== '') pos++;
    let delims: string;
    if (delim === ':' || delim === '=') delims = SKIP;
    else if (delim === '(') delims = ')';
    else {
      out.push({ key, value: '', keyAt: base + keyAt, valueAt: base + pos });
      continue;
    }
    const valueAt = pos;
    let len = valueLength(s, pos, delims);
    // "key(x)->y": the value runs on to the next comma.
    if (delim === '(' && s[pos + len] === ')' && s[pos + len + 1] === '-' && s[pos + len + 2] === '>') {
      len += valueLength(s, pos + len, SKIP);
    }
    const value = s.slice(pos, pos + len);
    pos += len;
    if (pos < s.length) pos++;
    out.push({ key, value, keyAt: base + keyAt, valueAt: base + valueAt });
  }
}
