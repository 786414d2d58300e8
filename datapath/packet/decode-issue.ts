// What a layer decoder returns instead of throwing: the layer was cut short
// (truncated) or its fields contradict themselves (malformed).

export interface DecodeIssue {
  readonly kind: 'issue';
  readonly truncated: boolean;
  readonly message: string;
}

export function truncated(message: string): DecodeIssue {
  return { kind: 'issue', truncated: true, message };
}

export function malformed(message: string): DecodeIssue {
  return { kind: 'issue', truncated: false, message };
}
