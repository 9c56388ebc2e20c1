/** Attributed transcript as text: WebVTT with `<v Speaker>` voice spans, SRT and TXT with `Speaker:` prefixes. */
import { formatTimestamp, stringifySync, type NodeList } from 'subtitle';
import type { TranscriptSegment } from './types';

export const TRANSCRIPT_EXPORT_FORMATS = ['VTT', 'SRT', 'TXT'] as const;
export type TranscriptExportFormat = (typeof TRANSCRIPT_EXPORT_FORMATS)[number];

/**
 * `labelOf` turns a segment's speaker into the name shown (the speaker's person or label); segments
 * without a speaker get no prefix.
 */
export function formatTranscript(
  segments: readonly TranscriptSegment[],
  format: TranscriptExportFormat,
  labelOf: (speaker: string) => string = (speaker) => speaker,
): string {
  const named = segments.map((s) => ({ ...s, name: s.speaker === null ? undefined : labelOf(s.speaker) }));
  if (format === 'TXT') {
    const stamp = (sec: number) => formatTimestamp(Math.round(sec * 1000), { format: 'WebVTT' });
    return named.map((s) => `[${stamp(s.startSec)} --> ${stamp(s.endSec)}] ${s.name ? `${s.name}: ` : ''}${s.text}\n`).join('');
  }
  const nodes: NodeList = named.map((s) => ({
    type: 'cue',
    data: {
      start: Math.round(s.startSec * 1000),
      end: Math.round(s.endSec * 1000),
      // A voice name ends at '>', so one is dropped from names; SRT has no voices, so the name leads the text.
      text: s.name === undefined ? s.text : format === 'VTT' ? `<v ${s.name.replace(/>/g, '')}>${s.text}` : `${s.name}: ${s.text}`,
    },
  }));
  return stringifySync(nodes, { format: format === 'VTT' ? 'WebVTT' : 'SRT' });
}
