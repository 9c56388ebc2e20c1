/**
 * The one speaker-count rule, shared by the CLI, the API and the pipeline: an exact count or bounds,
 * not both, each a whole number from 1 to MAX_SPEAKERS, and min ≤ max. Pure (zod only), so services
 * can use it without loading clustering code.
 */
import { z } from 'zod';

import { InvalidArgumentError } from '../common/errors';

/** Upper bound a person might sensibly ask for; beyond it clustering cannot be told apart from noise. */
export const MAX_SPEAKERS = 50;

const FIELDS = ['numSpeakers', 'minSpeakers', 'maxSpeakers'] as const;

// GraphQL passes null for a field left out; both mean "let the engine decide".
const countField = z
  .number()
  .nullish()
  .transform((v) => v ?? undefined);

/** The count fields as a zod shape, for schemas that embed them (clustering and diarization configs). */
export const speakerCountFields = { numSpeakers: countField, minSpeakers: countField, maxSpeakers: countField };

export interface SpeakerCounts {
  numSpeakers?: number;
  minSpeakers?: number;
  maxSpeakers?: number;
}

/** The rule as a zod refinement (messages say what was wrong and what to do). */
export function checkSpeakerCounts(counts: SpeakerCounts, ctx: z.RefinementCtx): void {
  for (const name of FIELDS) {
    const value = counts[name];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1 || value > MAX_SPEAKERS) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `${name} must be a whole number from 1 to ${MAX_SPEAKERS}; got ${value}. Leave it out to let the engine decide.`,
      });
    }
  }
  const { numSpeakers, minSpeakers, maxSpeakers } = counts;
  if (minSpeakers !== undefined && maxSpeakers !== undefined && minSpeakers > maxSpeakers) {
    ctx.addIssue({
      code: 'custom',
      path: ['minSpeakers'],
      message: `minSpeakers (${minSpeakers}) is larger than maxSpeakers (${maxSpeakers}). minSpeakers must not exceed maxSpeakers: lower one or raise the other.`,
    });
  }
  if (numSpeakers !== undefined && (minSpeakers !== undefined || maxSpeakers !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['numSpeakers'], message: 'Give either numSpeakers (an exact count) or minSpeakers/maxSpeakers (bounds), not both.' });
  }
}

export const speakerCountsSchema = z.object(speakerCountFields).superRefine(checkSpeakerCounts);

/** Validates speaker counts (extra fields are ignored); throws INVALID_ARGUMENT with the first problem. */
export function parseSpeakerCounts(input: unknown): SpeakerCounts {
  const parsed = speakerCountsSchema.safeParse(input);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0].message);
  return parsed.data;
}
