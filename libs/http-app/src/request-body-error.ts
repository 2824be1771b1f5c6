/**
 * A request body the JSON parser refused, with the status and type body-parser gave it and nothing
 * else: body-parser's own errors carry the body (`body`) and, for malformed JSON, a `SyntaxError`
 * whose message quotes the bytes around the mistake, which Nest would answer verbatim.
 */
export class RequestBodyError extends Error {
  constructor(
    readonly status: number,
    /** body-parser's error type: `entity.parse.failed`, `entity.too.large`, `charset.unsupported`, ... */
    readonly type: string,
  ) {
    super(`request body refused: ${type}`);
    this.name = 'RequestBodyError';
  }
}
