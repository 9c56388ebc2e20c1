import { DiarizationDeps, DiarizationService } from '../services/diarization.service';
import { JobHandlers } from '../jobs/job-types';

export interface JobDeps extends DiarizationDeps {
  log?: (line: string) => void;
}

/** One handler per job kind; the bodies live in services/diarization.service.ts, this only dispatches. */
export function createJobHandlers(deps: JobDeps): JobHandlers {
  const diarization = new DiarizationService(deps);
  return {
    diarize: ({ meetingId }, ctx) => diarization.diarize(meetingId, ctx),
    identify: ({ meetingId }, ctx) => diarization.identify(meetingId, ctx),
  };
}
