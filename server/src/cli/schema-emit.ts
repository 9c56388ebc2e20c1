import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { repoRoot } from '../common/paths';
import { buildPlatformSchema, printPlatformSchema } from '../graphql/schema';
import { runCli } from './common';

/** `npm run schema:emit`: writes the GraphQL schema of the resolvers to the root schema.graphql. */
runCli(async () => {
  const target = path.join(repoRoot, 'schema.graphql');
  writeFileSync(target, printPlatformSchema(await buildPlatformSchema()));
  console.log(`wrote ${path.relative(process.cwd(), target) || target}`);
});
