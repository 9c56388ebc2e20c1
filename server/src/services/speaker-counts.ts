import { InvalidArgumentError } from '../common/errors';

export interface SpeakerCounts {
  numSpeakers?: number;
  minSpeakers?: number;
  maxSpeakers?: number;
}

/** Upper bound a person might sensibly ask for; beyond it clustering cannot be told apart from noise. */
const MAX_SPEAKERS = 50;

/** Rejects impossible speaker counts before anything is stored. */
export function validateSpeakerCounts(counts: SpeakerCounts): SpeakerCounts {
  const fields: Array<keyof SpeakerCounts> = ['numSpeakers', 'minSpeakers', 'maxSpeakers'];
  for (const name of fields) {
    const value = counts[name];
    if (value === undefined || value === null) continue;
    if (!Number.isInteger(value) || value < 1 || value > MAX_SPEAKERS) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${MAX_SPEAKERS}; got ${value}. Leave it out to let the engine decide.`);
    }
  }
  const { numSpeakers, minSpeakers, maxSpeakers } = counts;
  if (minSpeakers !== undefined && maxSpeakers !== undefined && minSpeakers > maxSpeakers) {
    throw new InvalidArgumentError(`minSpeakers (${minSpeakers}) is larger than maxSpeakers (${maxSpeakers}).`);
  }
  if (numSpeakers !== undefined && (minSpeakers !== undefined || maxSpeakers !== undefined)) {
    throw new InvalidArgumentError('Give either numSpeakers (an exact count) or minSpeakers/maxSpeakers (bounds), not both.');
  }
  return { numSpeakers: numSpeakers ?? undefined, minSpeakers: minSpeakers ?? undefined, maxSpeakers: maxSpeakers ?? undefined };
}
