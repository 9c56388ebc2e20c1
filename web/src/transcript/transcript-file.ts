import { guessTranscriptFormat, unknownTranscriptFormatMessage } from '../../../server/src/transcripts/detect';
import type { TranscriptFormat } from '../gql/graphql';

/** What the transcript file inputs accept (the server's import formats). */
export const TRANSCRIPT_ACCEPT = '.vtt,.webvtt,.srt,.json,text/vtt,application/x-subrip,application/json';

/**
 * Reads a chosen transcript file in the browser and names its format with the server's own detection
 * (extension, else content), so what attachTranscript receives is what an upload of the same file
 * would be parsed as. Parsing and every other check stay on the server, whose message is shown.
 */
export async function readTranscriptFile(file: File): Promise<{ format: TranscriptFormat; content: string }> {
  const content = await file.text();
  const format = guessTranscriptFormat(content, file.name);
  if (!format) throw new Error(unknownTranscriptFormatMessage(file.name));
  return { format, content };
}
