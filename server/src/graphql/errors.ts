import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';

import { AppError } from '../common/errors';

/**
 * Errors leave with a stable `extensions.code` and never a stack trace. AppErrors keep their
 * message (it says what to do); GraphQL's own errors (syntax, validation, limits) keep theirs;
 * anything else is masked and logged.
 */
export function createErrorFormatter(log: (line: string) => void) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = innermost(unwrapResolverError(error));
    if (original instanceof AppError) {
      return { message: original.message, path: formatted.path, locations: formatted.locations, extensions: { code: original.code } };
    }
    if (original instanceof ArgumentValidationError) {
      return { message: original.message, path: formatted.path, extensions: { code: 'INVALID_ARGUMENT' } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
    }
    log(
      `graphql: unexpected error at ${formatted.path?.join('.') ?? '(request)'}: ${original instanceof Error ? (original.stack ?? original.message) : String(original)}`,
    );
    return {
      message: 'Internal server error. It has been logged; try again, and report it if it persists.',
      path: formatted.path,
      extensions: { code: 'INTERNAL' },
    };
  };
}

/** Resolver errors may arrive wrapped more than once (graphql-jit's error, then Apollo's). */
function innermost(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth++) {
    if (current instanceof AppError || current instanceof ArgumentValidationError) return current;
    const next = (current as { originalError?: unknown } | null)?.originalError;
    if (!next) return current;
    current = next;
  }
  return current;
}
