import type { ReactNode } from 'react';

/** The server's snippet (plain text with <mark>…</mark> around matches) as text nodes and <mark> elements; never parsed as HTML. */
export function Snippet({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  const pattern = /<mark>(.*?)<\/mark>/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(<mark key={match.index}>{match[1]}</mark>);
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return <>{parts}</>;
}
