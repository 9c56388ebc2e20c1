/**
 * The pub/sub topic job progress and state changes are published on: the job service's publisher
 * (wired in app/platform.ts) and the GraphQL jobProgress subscription both use it.
 */
export const JOB_PROGRESS_TOPIC = 'JOB_PROGRESS';
