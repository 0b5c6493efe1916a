/**
 * A connection string with its password replaced by `***`, for every log line and error
 * message: the password may sit in the user-info part or in a `password=` parameter.
 */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):[^@/?#]*@/i, '$1:***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** Removes every occurrence of a secret from a message (drivers sometimes echo connection details). */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('***');
  return out;
}
