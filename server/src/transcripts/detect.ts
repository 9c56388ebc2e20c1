/**
 * Which transcript format a file is, from its name's extension, else from its first bytes. Free of
 * imports beyond the format names, so the web app runs the very same detection in the browser before
 * it calls attachTranscript (web/src/transcript/transcript-file.ts).
 */
import { TRANSCRIPT_FORMATS, type TranscriptFormat } from './types';

const BY_EXTENSION: Record<string, TranscriptFormat> = { vtt: 'VTT', webvtt: 'VTT', srt: 'SRT', json: 'WHISPER_JSON' };

/** The format the extension names, else the one the content starts like; undefined when neither tells. */
export function guessTranscriptFormat(content: string, fileName?: string): TranscriptFormat | undefined {
  const extension = fileName?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (extension && BY_EXTENSION[extension]) return BY_EXTENSION[extension];
  const head = content.replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('WEBVTT')) return 'VTT';
  if (head.startsWith('{')) return 'WHISPER_JSON';
  if (/^\d+\s*\r?\n\d{1,2}:\d{2}:\d{2},\d{3}\s*-->/.test(head)) return 'SRT';
  return undefined;
}

/** What to say when guessTranscriptFormat cannot tell. */
export function unknownTranscriptFormatMessage(fileName?: string): string {
  return `Cannot tell the transcript format of ${fileName ? `"${fileName}"` : 'the content'}; use a .vtt, .srt or .json file (one of ${TRANSCRIPT_FORMATS.join(', ')}).`;
}
