/** A stretch of one speaker's speech, in seconds from the start of the recording. */
export interface SpeakerTurn {
  speaker: string;
  startSec: number;
  endSec: number;
}
