import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'graphql';
import { getComplexity, simpleEstimator } from 'graphql-query-complexity';

import { buildPlatformSchema, printPlatformSchema } from '../server/src/graphql/schema';

describe('schema.graphql', () => {
  it('matches the schema the resolvers build (run `npm run schema:emit` after changing them)', async () => {
    const committed = readFileSync(path.resolve(__dirname, '../schema.graphql'), 'utf8');
    expect(printPlatformSchema(await buildPlatformSchema())).toBe(committed);
  });

  it('exposes the operations the web app and analytics tools rely on', async () => {
    const schema = await buildPlatformSchema();
    const fields = (type: string) => Object.keys((schema.getType(type) as unknown as { getFields(): object }).getFields());
    expect(fields('Query')).toEqual(expect.arrayContaining(['meetings', 'meeting', 'job', 'batch', 'people', 'person', 'stats', 'findSpeaker', 'viewer']));
    expect(fields('Mutation')).toEqual(
      expect.arrayContaining([
        'createMeeting',
        'importMeetings',
        'deleteMeeting',
        'cancelJob',
        'retryJob',
        'renameSpeaker',
        'mergeSpeakers',
        'splitSpeaker',
        'moveTurn',
        'assignSpeaker',
        'enrollFromUploads',
        'enrollFromSpeaker',
        'removeEnrollment',
        'deletePerson',
        'reprocess',
        'createToken',
        'revokeToken',
      ]),
    );
    expect(fields('Subscription')).toEqual(['jobProgress']);
    // sanity of the estimator input: a plain query has a small cost
    expect(getComplexity({ schema, query: parse('{ viewer { scope } }'), estimators: [simpleEstimator({ defaultComplexity: 1 })] })).toBe(2);
  });
});
