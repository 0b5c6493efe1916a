/**
 * The part of a connection string that is safe to print: scheme, hosts and database, never
 * the user, password or query options (which may carry credentials or key files).
 */
export function describeMongoUrl(url: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/)(?:[^/?#]*@)?([^/?#]*)(\/[^?#]*)?/.exec(url);
  if (match === null) return 'mongodb://(unparsable url)';
  return `${match[1]}${match[2]}${match[3] ?? ''}`;
}
